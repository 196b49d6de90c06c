-- As SQLite's migrations/0004_access.sql: IAM-style users, access keys and inline policies;
-- per-virtual-cluster settings; a job run's hold on its virtual cluster's concurrency limit;
-- and the audit log.
CREATE TABLE iam_users (
    name       text COLLATE "C" PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    arn        text NOT NULL,
    created_at timestamptz NOT NULL
);
-- secret holds the secret access key sealed with AES-256-GCM under a key kept outside the
-- database (internal/access.Sealer).
CREATE TABLE iam_access_keys (
    id         text COLLATE "C" PRIMARY KEY,
    user_name  text COLLATE "C" NOT NULL REFERENCES iam_users (name),
    status     text NOT NULL,
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (user_name);
CREATE TABLE iam_user_policies (
    user_name  text COLLATE "C" NOT NULL REFERENCES iam_users (name),
    name       text COLLATE "C" NOT NULL,
    document   text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_name, name)
);

ALTER TABLE virtual_clusters ADD COLUMN settings json;

ALTER TABLE job_runs ADD COLUMN admitted boolean NOT NULL DEFAULT false;
UPDATE job_runs SET admitted = true WHERE state IN ('SUBMITTED', 'RUNNING', 'CANCEL_PENDING');
CREATE INDEX job_runs_queue ON job_runs (virtual_cluster_id, admitted, created_at, id)
    WHERE state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING');

CREATE TABLE audit_events (
    seq           bigserial PRIMARY KEY,
    at            timestamptz NOT NULL,
    request_id    text NOT NULL,
    principal     text NOT NULL,
    access_key_id text NOT NULL,
    source        text NOT NULL,
    action        text NOT NULL,
    resource      text NOT NULL,
    outcome       text NOT NULL,
    error_code    text NOT NULL,
    status        integer NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at, seq);
