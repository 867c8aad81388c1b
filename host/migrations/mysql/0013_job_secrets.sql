-- wasmcron schema, version 13 (MySQL/MariaDB): secrets read from files.

-- The secrets a job's plugin reads through config-get, as JSON {config key: secret name}.
-- Only the names: the values are read from the secrets directory at run time and never
-- stored. A TEXT column takes no default: existing rows are filled before it becomes NOT
-- NULL (every insert writes it).
ALTER TABLE jobs ADD COLUMN secrets MEDIUMTEXT NULL;
UPDATE jobs SET secrets = '{}';
ALTER TABLE jobs MODIFY COLUMN secrets MEDIUMTEXT NOT NULL;
