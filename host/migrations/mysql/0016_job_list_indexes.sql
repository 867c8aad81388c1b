-- wasmcron schema, version 16 (MySQL/MariaDB): an index per filter of the job list.

-- The job list pages by name; a filter's index leads with the filtered column and follows
-- with the name, so a filtered page is a range of one index however few jobs match.
ALTER TABLE jobs DROP INDEX jobs_by_owner;
ALTER TABLE jobs ADD INDEX jobs_by_owner (owner, name), ADD INDEX jobs_by_plugin (plugin, name),
    ADD INDEX jobs_by_paused (paused, name);
