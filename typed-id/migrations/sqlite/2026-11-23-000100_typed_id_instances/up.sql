-- typed-id instance registry and snowflake worker-ID leases.
--
-- Times are milliseconds since the Unix epoch, written by the application's clock (one
-- clock for every backend, injectable in tests).

-- One row per instance ID; a closed one keeps its row (closed_at_ms) until the ID
-- registers again.
CREATE TABLE typed_id_instances (
    instance_id TEXT NOT NULL PRIMARY KEY,
    project TEXT NOT NULL,
    hostname TEXT,
    pid INTEGER,
    source TEXT,
    environment TEXT,
    started_at_ms INTEGER NOT NULL,
    last_heartbeat_ms INTEGER NOT NULL,
    status TEXT,
    closed_at_ms INTEGER,
    -- Random per registration: heartbeats must present it, so a process whose ID was
    -- taken over after it went stale learns that it was superseded.
    incarnation INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- list(): active instances by project, most recent heartbeat first.
CREATE INDEX typed_id_instances_active
    ON typed_id_instances (project, last_heartbeat_ms)
    WHERE closed_at_ms IS NULL;

-- One row per (scope, worker ID) ever leased. Rows are never deleted: a released or
-- expired row keeps its high-water mark, which the next holder must stay above.
CREATE TABLE typed_id_worker_leases (
    scope TEXT NOT NULL,
    worker_id INTEGER NOT NULL CHECK (worker_id >= 0),
    -- The holder's instance ID; NULL once released.
    holder TEXT,
    -- Random per acquisition: renewals and the release must present it.
    token INTEGER NOT NULL,
    acquired_at_ms INTEGER NOT NULL,
    renewed_at_ms INTEGER NOT NULL,
    -- Free for another holder once the clock passes this (0 once released).
    expires_at_ms INTEGER NOT NULL,
    -- The high-water mark inherited at acquisition: the holder issues only above it.
    floor_ms INTEGER NOT NULL CHECK (floor_ms >= 0),
    -- No ID of this worker has a timestamp above this (Unix ms) until it is raised.
    high_water_ms INTEGER NOT NULL CHECK (high_water_ms >= 0),
    PRIMARY KEY (scope, worker_id)
) STRICT, WITHOUT ROWID;
