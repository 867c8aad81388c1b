-- wasmcron schema, version 4 (MySQL/MariaDB): named API tokens.

-- Bearer tokens created by admins (`POST /api/v1/tokens`). Only the SHA-256 of the secret is
-- stored; the secret is shown once, when the token is created. Revoking deletes the row.
CREATE TABLE api_tokens (
    name          VARCHAR(255) NOT NULL PRIMARY KEY,
    role          VARCHAR(16) NOT NULL,
    sha256        VARCHAR(255) NOT NULL,
    created_at_ms BIGINT NOT NULL,
    created_by    VARCHAR(255) NULL,
    last_used_ms  BIGINT NULL,
    CONSTRAINT api_tokens_role CHECK (role IN ('admin', 'read')),
    UNIQUE KEY api_tokens_by_sha256 (sha256)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
