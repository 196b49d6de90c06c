-- The first PostgreSQL schema: the resources of the SQLite schema at its version 3
-- (migrations/0001_initial.sql and 0003_typed_attempt.sql), with the same semantics. Each row
-- keeps the whole resource as JSON (doc) beside the columns that queries filter and sort on.
--
-- doc is json, not jsonb: it is kept exactly as encoding/json wrote it and read back whole, and
-- jsonb would refuse a string holding \u0000, which SQLite stores without complaint.
-- Identifiers are text COLLATE "C": lists are ordered by (created_at, id) byte by byte, as
-- SQLite orders them, whatever the database's locale, and the keyset comparison of a nextToken
-- agrees with the index order.
CREATE TABLE virtual_clusters (
    id            text COLLATE "C" PRIMARY KEY,
    created_at    timestamptz NOT NULL,
    state         text NOT NULL,
    provider_id   text NOT NULL,
    provider_type text NOT NULL,
    namespace     text NOT NULL,
    client_token  text,
    request_hash  text,
    doc           json NOT NULL
);
CREATE INDEX virtual_clusters_created ON virtual_clusters (created_at DESC, id DESC);
CREATE UNIQUE INDEX virtual_clusters_token ON virtual_clusters (client_token) WHERE client_token IS NOT NULL;
-- A namespace hosts at most one running virtual cluster.
CREATE UNIQUE INDEX virtual_clusters_running_namespace ON virtual_clusters (provider_id, namespace) WHERE state = 'RUNNING';

CREATE TABLE job_runs (
    id                 text COLLATE "C" PRIMARY KEY,
    virtual_cluster_id text NOT NULL,
    name               text NOT NULL,
    state              text NOT NULL,
    created_at         timestamptz NOT NULL,
    version            bigint NOT NULL,
    client_token       text,
    request_hash       text,
    doc                json NOT NULL,
    -- The controller's record of the current attempt (jobs.Attempt); NULL before the first.
    attempt            json
);
-- ListJobRuns: newest first per virtual cluster, keyset pagination on (created_at, id).
CREATE INDEX job_runs_list ON job_runs (virtual_cluster_id, created_at DESC, id DESC);
-- A clientToken is unique within its virtual cluster; concurrent StartJobRun calls with the
-- same token meet here (ON CONFLICT), so only one of them stores a run.
CREATE UNIQUE INDEX job_runs_token ON job_runs (virtual_cluster_id, client_token) WHERE client_token IS NOT NULL;
-- The controller's work list stays small however many finished runs there are.
CREATE INDEX job_runs_active ON job_runs (created_at, id) WHERE state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING');

CREATE TABLE job_templates (
    id           text COLLATE "C" PRIMARY KEY,
    created_at   timestamptz NOT NULL,
    client_token text,
    request_hash text,
    doc          json NOT NULL
);
CREATE INDEX job_templates_created ON job_templates (created_at DESC, id DESC);
CREATE UNIQUE INDEX job_templates_token ON job_templates (client_token) WHERE client_token IS NOT NULL;

CREATE TABLE security_configurations (
    id           text COLLATE "C" PRIMARY KEY,
    created_at   timestamptz NOT NULL,
    client_token text,
    request_hash text,
    doc          json NOT NULL
);
CREATE INDEX security_configurations_created ON security_configurations (created_at DESC, id DESC);
CREATE UNIQUE INDEX security_configurations_token ON security_configurations (client_token) WHERE client_token IS NOT NULL;
