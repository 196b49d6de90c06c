-- Cost, as SQLite's migrations/0002_cost.sql: what each job run's pods reserved, on which node,
-- for how long (cost.PodUsage), and the pricing facts of those nodes (cost.NodeFacts). Kept
-- apart from the job run documents so the informers' writes never contend with job state
-- updates, and so a pod's record outlives the pod: executors are deleted when their job ends.
-- Names that lists sort by are COLLATE "C", to sort as SQLite does.
CREATE TABLE cost_pods (
    uid                 text COLLATE "C" PRIMARY KEY,
    cluster             text NOT NULL,
    namespace           text NOT NULL,
    name                text NOT NULL,
    job_run_id          text NOT NULL,
    virtual_cluster_id  text NOT NULL,
    role                text NOT NULL,
    node_name           text NOT NULL,
    cpu_millis          bigint NOT NULL,
    memory_bytes        bigint NOT NULL,
    cpu_usage_millis    bigint NOT NULL DEFAULT 0,
    memory_usage_bytes  bigint NOT NULL DEFAULT 0,
    started_at          timestamptz,          -- scheduled onto its node
    ended_at            timestamptz,          -- NULL while it holds its node
    updated_at          timestamptz NOT NULL
);
CREATE INDEX cost_pods_job_run ON cost_pods (job_run_id);
CREATE INDEX cost_pods_virtual_cluster ON cost_pods (virtual_cluster_id, started_at);
CREATE INDEX cost_pods_node ON cost_pods (cluster, node_name, started_at);
CREATE INDEX cost_pods_open ON cost_pods (cluster) WHERE ended_at IS NULL;

CREATE TABLE cost_nodes (
    cluster        text NOT NULL,
    name           text COLLATE "C" NOT NULL,
    uid            text NOT NULL,
    instance_type  text NOT NULL,
    capacity_type  text NOT NULL,
    zone           text NOT NULL,
    region         text NOT NULL,
    price_label    text NOT NULL,
    cpu_millis     bigint NOT NULL,
    memory_bytes   bigint NOT NULL,
    created_at     timestamptz,
    deleted_at     timestamptz,           -- NULL while it exists
    PRIMARY KEY (cluster, name)
);
CREATE INDEX cost_nodes_open ON cost_nodes (cluster) WHERE deleted_at IS NULL;
