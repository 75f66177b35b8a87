DROP INDEX typed_id_instances_closed;
DROP INDEX typed_id_instances_hash;
ALTER TABLE typed_id_instances
    DROP CONSTRAINT typed_id_instances_epic_length,
    DROP CONSTRAINT typed_id_instances_context_range,
    DROP CONSTRAINT typed_id_instances_key_format,
    DROP CONSTRAINT typed_id_instances_type_format,
    DROP COLUMN current_epic,
    DROP COLUMN context_percent,
    DROP COLUMN key_hash,
    DROP COLUMN instance_type;
ALTER TABLE typed_id_instances RENAME COLUMN created_at_ms TO started_at_ms;
