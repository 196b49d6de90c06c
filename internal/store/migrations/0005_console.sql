-- The web console's sign-ins (access.Session): signed-in browser sessions and one-time
-- sign-in links. id is the hex SHA-256 of the token the browser holds; the token itself is
-- never stored.
CREATE TABLE console_sessions (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL, -- 'session' or 'link'
    access_key_id TEXT NOT NULL,
    created_at    INTEGER NOT NULL, -- unix microseconds
    expires_at    INTEGER NOT NULL  -- unix microseconds
);
-- DeleteExpiredSessions removes by expiry time.
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
