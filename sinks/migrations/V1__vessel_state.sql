-- Latest known state per vessel. One row per MMSI, upserted by the pipeline;
-- dashboards read it for "where is every ship now".
CREATE TABLE IF NOT EXISTS vessel_state (
    mmsi             integer          PRIMARY KEY CHECK (mmsi BETWEEN 100000000 AND 999999999),
    event_time       timestamptz      NOT NULL,
    lat              double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon              double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    sog              real,
    cog              real,
    heading          smallint,
    nav_status       smallint,
    source_topic     text             NOT NULL,
    source_partition integer          NOT NULL,
    source_offset    bigint           NOT NULL,
    updated_at       timestamptz      NOT NULL DEFAULT now()
);

-- "Which ships reported recently" and stale-vessel sweeps.
CREATE INDEX IF NOT EXISTS vessel_state_event_time_idx ON vessel_state (event_time DESC);
