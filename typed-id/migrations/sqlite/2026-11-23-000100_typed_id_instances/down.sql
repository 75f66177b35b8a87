DROP TABLE typed_id_worker_leases;
DROP INDEX typed_id_instances_active;
DROP TABLE typed_id_instances;
