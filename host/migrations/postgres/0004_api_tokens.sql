-- wasmcron schema, version 4 (PostgreSQL): named API tokens.

-- Bearer tokens created by admins (`POST /api/v1/tokens`). Only the SHA-256 of the secret is
-- stored; the secret is shown once, when the token is created. Revoking deletes the row.
CREATE TABLE api_tokens (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'read')),
    sha256        TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    created_by    TEXT,
    last_used_ms  BIGINT
);
