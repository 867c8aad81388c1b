-- wasmcron schema, version 16 (PostgreSQL): an index per filter of the job list.

-- The job list pages by name; a filter's index leads with the filtered column and follows
-- with the name, so a filtered page is a range of one index however few jobs match.
CREATE INDEX jobs_by_plugin ON jobs (plugin, name);
CREATE INDEX jobs_by_paused ON jobs (paused, name);
DROP INDEX jobs_by_owner;
CREATE INDEX jobs_by_owner ON jobs (owner, name);
