-- The first schema: one table per resource. Each row keeps the whole resource as JSON (doc)
-- beside the columns that queries filter and sort on.
CREATE TABLE virtual_clusters (
    id            TEXT PRIMARY KEY,
    created_at    INTEGER NOT NULL, -- unix microseconds
    state         TEXT NOT NULL,
    provider_id   TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    namespace     TEXT NOT NULL,
    client_token  TEXT,
    request_hash  TEXT,
    doc           BLOB NOT NULL
);
CREATE INDEX virtual_clusters_created ON virtual_clusters (created_at DESC, id DESC);
CREATE UNIQUE INDEX virtual_clusters_token ON virtual_clusters (client_token) WHERE client_token IS NOT NULL;
-- A namespace hosts at most one running virtual cluster.
CREATE UNIQUE INDEX virtual_clusters_running_namespace ON virtual_clusters (provider_id, namespace) WHERE state = 'RUNNING';

CREATE TABLE job_runs (
    id                 TEXT PRIMARY KEY,
    virtual_cluster_id TEXT NOT NULL,
    name               TEXT NOT NULL,
    state              TEXT NOT NULL,
    created_at         INTEGER NOT NULL, -- unix microseconds
    version            INTEGER NOT NULL,
    client_token       TEXT,
    request_hash       TEXT,
    doc                BLOB NOT NULL,
    extensions         BLOB
);
-- ListJobRuns: newest first per virtual cluster, keyset pagination on (created_at, id).
CREATE INDEX job_runs_list ON job_runs (virtual_cluster_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX job_runs_token ON job_runs (virtual_cluster_id, client_token) WHERE client_token IS NOT NULL;
-- The controller's work list stays small however many finished runs there are.
CREATE INDEX job_runs_active ON job_runs (created_at, id) WHERE state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING');

CREATE TABLE job_templates (
    id           TEXT PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    client_token TEXT,
    request_hash TEXT,
    doc          BLOB NOT NULL
);
CREATE INDEX job_templates_created ON job_templates (created_at DESC, id DESC);
CREATE UNIQUE INDEX job_templates_token ON job_templates (client_token) WHERE client_token IS NOT NULL;

CREATE TABLE security_configurations (
    id           TEXT PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    client_token TEXT,
    request_hash TEXT,
    doc          BLOB NOT NULL
);
CREATE INDEX security_configurations_created ON security_configurations (created_at DESC, id DESC);
CREATE UNIQUE INDEX security_configurations_token ON security_configurations (client_token) WHERE client_token IS NOT NULL;
