-- typed-id stores: counters shared by every process that opens this database.
--
-- STRICT: a value of the wrong type is refused instead of being stored as text (which
-- `last + 1` would silently read as 0). WITHOUT ROWID: the key is the table.

-- The last child number handed out under each parent ID (full text, prefix included).
CREATE TABLE typed_id_child_counters (
    parent TEXT NOT NULL PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
) STRICT, WITHOUT ROWID;

-- The last display number allocated in each scope (e.g. a project).
CREATE TABLE typed_id_display_sequences (
    scope TEXT NOT NULL PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
) STRICT, WITHOUT ROWID;
