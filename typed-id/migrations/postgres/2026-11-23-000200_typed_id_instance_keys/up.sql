-- typed-id instance registry, second version: instance types and keys
-- `{project}-{type}-{hash}`, context and progress, hash lookups, purging.
--
-- Upgrades a registry created by the first version in place: its rows (caller-supplied
-- IDs such as Kubernetes pod names) keep working as untyped rows, whose type and hash
-- stay NULL.

-- The registration time is the row's creation time (a takeover replaces the row).
ALTER TABLE typed_id_instances RENAME COLUMN started_at_ms TO created_at_ms;

ALTER TABLE typed_id_instances
    -- The application-defined type code (`PS`, `MS`, …). NULL for rows registered under
    -- a caller-supplied ID.
    ADD COLUMN instance_type TEXT COLLATE "C",
    -- The hash part of a typed row's key.
    ADD COLUMN key_hash TEXT COLLATE "C",
    -- How full the instance's context window is, in percent.
    ADD COLUMN context_percent INTEGER,
    -- What the instance is working on (free text).
    ADD COLUMN current_epic TEXT,
    -- ASCII letters and digits, 1 to 16.
    ADD CONSTRAINT typed_id_instances_type_format CHECK (
        instance_type IS NULL OR instance_type ~ '^[A-Za-z0-9]{1,16}$'
    ),
    -- A typed row's ID is exactly `{project}-{type}-{hash}`: its project ASCII letters
    -- and digits in `-`-separated segments, at most 48 bytes; its hash 4 to 32
    -- lowercase hex digits.
    ADD CONSTRAINT typed_id_instances_key_format CHECK (
        (key_hash IS NULL) = (instance_type IS NULL)
        AND (key_hash IS NULL
            OR (key_hash ~ '^[0-9a-f]{4,32}$'
                AND octet_length(project) <= 48
                AND project ~ '^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$'
                AND instance_id = project || '-' || instance_type || '-' || key_hash))
    ),
    ADD CONSTRAINT typed_id_instances_context_range CHECK (
        context_percent IS NULL OR context_percent BETWEEN 0 AND 100
    ),
    ADD CONSTRAINT typed_id_instances_epic_length CHECK (
        current_epic IS NULL OR char_length(current_epic) BETWEEN 1 AND 256
    );

-- get(): the hash alone (`8f4a2b` finds `odin-PS-8f4a2b`).
CREATE INDEX typed_id_instances_hash
    ON typed_id_instances (key_hash)
    WHERE key_hash IS NOT NULL;

-- purge(): closed rows by age.
CREATE INDEX typed_id_instances_closed
    ON typed_id_instances (closed_at_ms)
    WHERE closed_at_ms IS NOT NULL;
