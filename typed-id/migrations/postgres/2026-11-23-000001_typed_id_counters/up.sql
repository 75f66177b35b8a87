-- typed-id stores: counters shared by every process that uses this database.
--
-- Keys use the "C" collation: IDs and scopes compare byte by byte, as they do in Rust.

-- The last child number handed out under each parent ID (full text, prefix included).
CREATE TABLE typed_id_child_counters (
    parent TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last BIGINT NOT NULL CHECK (last >= 0)
);

-- The last display number allocated in each scope (e.g. a project).
CREATE TABLE typed_id_display_sequences (
    scope TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last BIGINT NOT NULL CHECK (last >= 0)
);
