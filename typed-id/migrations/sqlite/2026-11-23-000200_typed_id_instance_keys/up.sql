-- typed-id instance registry, second version: instance types and keys
-- `{project}-{type}-{hash}`, context and progress, hash lookups, purging.
--
-- Upgrades a registry created by the first version in place: its rows (caller-supplied
-- IDs such as Kubernetes pod names) keep working as untyped rows, whose type and hash
-- stay NULL.

-- The registration time is the row's creation time (a takeover replaces the row).
ALTER TABLE typed_id_instances RENAME COLUMN started_at_ms TO created_at_ms;

-- The application-defined type code (`PS`, `MS`, …): ASCII letters and digits, 1 to 16.
-- NULL for rows registered under a caller-supplied ID.
ALTER TABLE typed_id_instances ADD COLUMN instance_type TEXT
    CONSTRAINT typed_id_instances_type_format CHECK (
        instance_type IS NULL
        OR (length(instance_type) BETWEEN 1 AND 16
            AND instance_type NOT GLOB '*[^A-Za-z0-9]*')
    );

-- The hash part of a typed row's key: 4 to 32 lowercase hex digits. A typed row's ID is
-- exactly `{project}-{type}-{hash}`, its project ASCII letters and digits in
-- `-`-separated segments, at most 48 bytes.
ALTER TABLE typed_id_instances ADD COLUMN key_hash TEXT
    CONSTRAINT typed_id_instances_key_format CHECK (
        (key_hash IS NULL) = (instance_type IS NULL)
        AND (key_hash IS NULL
            OR (length(key_hash) BETWEEN 4 AND 32
                AND key_hash NOT GLOB '*[^0-9a-f]*'
                AND length(project) BETWEEN 1 AND 48
                AND project NOT GLOB '*[^A-Za-z0-9-]*'
                AND project NOT GLOB '-*'
                AND project NOT GLOB '*-'
                AND project NOT GLOB '*--*'
                AND instance_id = project || '-' || instance_type || '-' || key_hash))
    );

-- How full the instance's context window is, in percent; set at registration and by
-- heartbeats.
ALTER TABLE typed_id_instances ADD COLUMN context_percent INTEGER
    CONSTRAINT typed_id_instances_context_range CHECK (
        context_percent IS NULL OR context_percent BETWEEN 0 AND 100
    );

-- What the instance is working on (free text, 1 to 256 characters).
ALTER TABLE typed_id_instances ADD COLUMN current_epic TEXT
    CONSTRAINT typed_id_instances_epic_length CHECK (
        current_epic IS NULL OR length(current_epic) BETWEEN 1 AND 256
    );

-- get(): the hash alone (`8f4a2b` finds `odin-PS-8f4a2b`).
CREATE INDEX typed_id_instances_hash
    ON typed_id_instances (key_hash)
    WHERE key_hash IS NOT NULL;

-- purge(): closed rows by age.
CREATE INDEX typed_id_instances_closed
    ON typed_id_instances (closed_at_ms)
    WHERE closed_at_ms IS NOT NULL;
