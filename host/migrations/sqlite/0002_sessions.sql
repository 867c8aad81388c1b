-- wasmcron schema, version 2 (SQLite): the session columns exist for symmetry with
-- PostgreSQL; SQLite has no server sessions, so they stay NULL and the heartbeat alone decides
-- whether a replica is live.
ALTER TABLE instances ADD COLUMN session_pid INTEGER;
ALTER TABLE instances ADD COLUMN session_since_ms INTEGER;
