-- wasmcron schema, version 2 (MySQL/MariaDB): crash detection by database session.
-- Each replica holds a named lock (`GET_LOCK(session_lock, 0)`) on a dedicated connection and
-- records that connection's id here; a peer whose recorded connection no longer holds the lock
-- (`IS_USED_LOCK(session_lock)`) has crashed (its connection is gone), which is known within a
-- second instead of after the heartbeat threshold. Lock names are server-wide, so the name
-- carries the database's name too (hashed when longer than the 64 characters a name may have).
-- `session_boot_ms` is when the server that handed out the connection id started (from its
-- `Uptime`): a session recorded before the newest start any replica saw belongs to a server
-- run that has ended (then the heartbeat alone decides, as after a PostgreSQL restart).
ALTER TABLE instances
    ADD COLUMN session_pid BIGINT NULL,
    ADD COLUMN session_since_ms BIGINT NULL,
    ADD COLUMN session_lock VARCHAR(64) NULL,
    ADD COLUMN session_boot_ms BIGINT NULL;
