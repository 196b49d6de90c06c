-- Sharing sparkplane between teams: IAM-style users, their access keys and inline policies;
-- per-virtual-cluster settings; a job run's hold on its virtual cluster's concurrency limit;
-- and the audit log.
CREATE TABLE iam_users (
    name       TEXT PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    arn        TEXT NOT NULL,
    created_at INTEGER NOT NULL -- unix microseconds
);
-- secret holds the secret access key sealed with AES-256-GCM under a key kept outside the
-- database (internal/access.Sealer); the database alone does not hand it out.
CREATE TABLE iam_access_keys (
    id         TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES iam_users (name),
    status     TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (user_name);
CREATE TABLE iam_user_policies (
    user_name  TEXT NOT NULL REFERENCES iam_users (name),
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_name, name)
);

-- The operator's settings document (jobs.VirtualClusterSettings); NULL: the server's defaults.
ALTER TABLE virtual_clusters ADD COLUMN settings BLOB;

-- admitted is 1 once a run holds one of its virtual cluster's maxConcurrentJobRuns slots: from
-- its admission (or its first driver) until it ends. Runs already on the cluster hold one.
ALTER TABLE job_runs ADD COLUMN admitted INTEGER NOT NULL DEFAULT 0;
UPDATE job_runs SET admitted = 1 WHERE state IN ('SUBMITTED', 'RUNNING', 'CANCEL_PENDING');
CREATE INDEX job_runs_queue ON job_runs (virtual_cluster_id, admitted, created_at, id)
    WHERE state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING');

CREATE TABLE audit_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL, -- unix microseconds
    request_id    TEXT NOT NULL,
    principal     TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    source        TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    error_code    TEXT NOT NULL,
    status        INTEGER NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at, seq);
