-- typed-id instance registry and snowflake worker-ID leases.
--
-- Times are milliseconds since the Unix epoch, written by the application's clock (one
-- clock for every backend, injectable in tests). Keys use the "C" collation: IDs compare
-- byte by byte, as they do in Rust.

-- One row per instance ID; a closed one keeps its row (closed_at_ms) until the ID
-- registers again.
CREATE TABLE typed_id_instances (
    instance_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    project TEXT COLLATE "C" NOT NULL,
    hostname TEXT,
    pid BIGINT,
    source TEXT,
    environment TEXT,
    started_at_ms BIGINT NOT NULL,
    last_heartbeat_ms BIGINT NOT NULL,
    status TEXT,
    closed_at_ms BIGINT,
    -- Random per registration: heartbeats must present it, so a process whose ID was
    -- taken over after it went stale learns that it was superseded.
    incarnation BIGINT NOT NULL
);

-- list(): active instances by project, most recent heartbeat first.
CREATE INDEX typed_id_instances_active
    ON typed_id_instances (project, last_heartbeat_ms)
    WHERE closed_at_ms IS NULL;

-- One row per (scope, worker ID) ever leased. Rows are never deleted: a released or
-- expired row keeps its high-water mark, which the next holder must stay above.
CREATE TABLE typed_id_worker_leases (
    scope TEXT COLLATE "C" NOT NULL,
    worker_id INTEGER NOT NULL CHECK (worker_id >= 0),
    -- The holder's instance ID; NULL once released.
    holder TEXT,
    -- Random per acquisition: renewals and the release must present it.
    token BIGINT NOT NULL,
    acquired_at_ms BIGINT NOT NULL,
    renewed_at_ms BIGINT NOT NULL,
    -- Free for another holder once the clock passes this (0 once released).
    expires_at_ms BIGINT NOT NULL,
    -- The high-water mark inherited at acquisition: the holder issues only above it.
    floor_ms BIGINT NOT NULL CHECK (floor_ms >= 0),
    -- No ID of this worker has a timestamp above this (Unix ms) until it is raised.
    high_water_ms BIGINT NOT NULL CHECK (high_water_ms >= 0),
    PRIMARY KEY (scope, worker_id)
);
