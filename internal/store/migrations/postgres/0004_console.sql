-- As SQLite's migrations/0005_console.sql: the web console's sign-ins (access.Session),
-- signed-in browser sessions and one-time sign-in links. id is the hex SHA-256 of the token
-- the browser holds; the token itself is never stored.
CREATE TABLE console_sessions (
    id            text COLLATE "C" PRIMARY KEY,
    kind          text NOT NULL,
    access_key_id text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
-- DeleteExpiredSessions removes by expiry time.
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
