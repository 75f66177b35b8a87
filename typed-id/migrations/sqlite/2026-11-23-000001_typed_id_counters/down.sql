DROP TABLE typed_id_display_sequences;
DROP TABLE typed_id_child_counters;
