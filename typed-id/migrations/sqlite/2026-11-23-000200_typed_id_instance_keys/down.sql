DROP INDEX typed_id_instances_closed;
DROP INDEX typed_id_instances_hash;
ALTER TABLE typed_id_instances DROP COLUMN current_epic;
ALTER TABLE typed_id_instances DROP COLUMN context_percent;
ALTER TABLE typed_id_instances DROP COLUMN key_hash;
ALTER TABLE typed_id_instances DROP COLUMN instance_type;
ALTER TABLE typed_id_instances RENAME COLUMN created_at_ms TO started_at_ms;
