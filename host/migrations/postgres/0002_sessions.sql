-- wasmcron schema, version 2 (PostgreSQL): crash detection by database session.
-- Each replica holds a session-level advisory lock on a dedicated connection and records that
-- connection's backend pid here; a peer whose recorded session no longer holds the lock has
-- crashed (its connection is gone), which is known within a second instead of after the
-- heartbeat threshold. `session_since_ms` tells a session recorded before the server's last
-- restart (then the heartbeat alone decides).
ALTER TABLE instances ADD COLUMN session_pid BIGINT;
ALTER TABLE instances ADD COLUMN session_since_ms BIGINT;
