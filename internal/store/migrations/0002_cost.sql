-- Cost: what each job run's pods reserved, on which node, for how long (cost.PodUsage), and the
-- pricing facts of those nodes (cost.NodeFacts). Kept apart from the job run documents so the
-- informers' writes never contend with job state updates, and so a pod's record outlives the
-- pod: executors are deleted when their job ends.
CREATE TABLE cost_pods (
    uid                 TEXT PRIMARY KEY,
    cluster             TEXT NOT NULL,
    namespace           TEXT NOT NULL,
    name                TEXT NOT NULL,
    job_run_id          TEXT NOT NULL,
    virtual_cluster_id  TEXT NOT NULL,
    role                TEXT NOT NULL,
    node_name           TEXT NOT NULL,
    cpu_millis          INTEGER NOT NULL,
    memory_bytes        INTEGER NOT NULL,
    cpu_usage_millis    INTEGER NOT NULL DEFAULT 0,
    memory_usage_bytes  INTEGER NOT NULL DEFAULT 0,
    started_at          INTEGER,          -- unix microseconds; scheduled onto its node
    ended_at            INTEGER,          -- unix microseconds; NULL while it holds its node
    updated_at          INTEGER NOT NULL
);
CREATE INDEX cost_pods_job_run ON cost_pods (job_run_id);
CREATE INDEX cost_pods_virtual_cluster ON cost_pods (virtual_cluster_id, started_at);
CREATE INDEX cost_pods_node ON cost_pods (cluster, node_name, started_at);
CREATE INDEX cost_pods_open ON cost_pods (cluster) WHERE ended_at IS NULL;

CREATE TABLE cost_nodes (
    cluster        TEXT NOT NULL,
    name           TEXT NOT NULL,
    uid            TEXT NOT NULL,
    instance_type  TEXT NOT NULL,
    capacity_type  TEXT NOT NULL,
    zone           TEXT NOT NULL,
    region         TEXT NOT NULL,
    price_label    TEXT NOT NULL,
    cpu_millis     INTEGER NOT NULL,
    memory_bytes   INTEGER NOT NULL,
    created_at     INTEGER,               -- unix microseconds
    deleted_at     INTEGER,               -- unix microseconds; NULL while it exists
    PRIMARY KEY (cluster, name)
);
CREATE INDEX cost_nodes_open ON cost_nodes (cluster) WHERE deleted_at IS NULL;
