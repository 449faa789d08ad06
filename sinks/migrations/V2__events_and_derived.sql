-- Every event kind and every processor output gets a home (issue 5).
--
-- Idempotence is built into the keys: event tables are keyed by the record's
-- identity (Kafka coordinates, or the producer's event_id), derived tables by
-- the processors' stable ids, so the sink's INSERT ... ON CONFLICT turns a
-- replay into a no-op. Latest-state tables are guarded by event time.

-- Position history, partitioned by event day. The sink creates the day's
-- partition (porttrack_ensure_positions_partition) before it writes into it.
-- The key starts with event_time because a partitioned table's unique key
-- must contain the partition key; the Kafka coordinates make it unique.
CREATE TABLE positions (
    event_time       timestamptz      NOT NULL,
    source_topic     text             NOT NULL,
    source_partition integer          NOT NULL,
    source_offset    bigint           NOT NULL,
    source_index     smallint         NOT NULL DEFAULT 0,
    mmsi             integer          NOT NULL CHECK (mmsi BETWEEN 100000000 AND 999999999),
    lat              double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon              double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    sog              real,
    cog              real,
    heading          smallint,
    nav_status       smallint,
    PRIMARY KEY (event_time, source_topic, source_partition, source_offset, source_index)
) PARTITION BY RANGE (event_time);

-- A vessel's track ("where was this ship between t1 and t2").
CREATE INDEX positions_mmsi_time_idx ON positions (mmsi, event_time DESC);

-- Creates the partition holding `day` (UTC) if it does not exist. Several
-- instances may race here: the loser's duplicate_table is swallowed.
CREATE FUNCTION porttrack_ensure_positions_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text := format('positions_%s', to_char(day, 'YYYYMMDD'));
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
        name,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC'));
EXCEPTION
    WHEN duplicate_table OR unique_violation THEN
        NULL;
END;
$$;

-- Static and voyage data merged per vessel: a later report fills fields and
-- never blanks them; an older (replayed, late) report only fills blanks.
CREATE TABLE vessels (
    mmsi          integer     PRIMARY KEY CHECK (mmsi BETWEEN 100000000 AND 999999999),
    last_report   timestamptz NOT NULL,
    imo           integer CHECK (imo BETWEEN 1000000 AND 9999999),
    callsign      text,
    shipname      text,
    shiptype      smallint CHECK (shiptype BETWEEN 0 AND 99),
    to_bow        smallint,
    to_stern      smallint,
    to_port       smallint,
    to_starboard  smallint,
    draught       real,
    destination   text,
    eta           timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX vessels_shipname_idx ON vessels (shipname);

-- Weather observations, keyed by (station, time): the same observation
-- arriving twice (a replay, or two topics) is one row.
CREATE TABLE weather (
    station            text        NOT NULL,
    event_time         timestamptz NOT NULL,
    zone               text,
    lat                double precision CHECK (lat BETWEEN -90 AND 90),
    lon                double precision CHECK (lon BETWEEN -180 AND 180),
    wind_speed_kn      real,
    wind_gust_kn       real,
    wind_direction_deg smallint,
    visibility_nm      real,
    wave_height_m      real,
    pressure_hpa       real,
    air_temperature_c  real,
    source_topic       text        NOT NULL,
    source_partition   integer     NOT NULL,
    source_offset      bigint      NOT NULL,
    PRIMARY KEY (station, event_time)
);

CREATE INDEX weather_zone_time_idx ON weather (zone, event_time DESC);

-- The newest observation per zone (stations located only by position have
-- no zone here; the processors attribute them, see congestion.weather).
CREATE VIEW weather_latest AS
SELECT DISTINCT ON (zone) *
FROM weather
WHERE zone IS NOT NULL
ORDER BY zone, event_time DESC, station;

CREATE TABLE cargo_events (
    event_id         text        PRIMARY KEY,
    event_time       timestamptz NOT NULL,
    mmsi             integer     NOT NULL CHECK (mmsi BETWEEN 100000000 AND 999999999),
    voyage           text,
    berth            text        NOT NULL,
    operation        text        NOT NULL CHECK (operation IN ('load', 'discharge')),
    containers       integer     NOT NULL CHECK (containers >= 0),
    teu              integer     NOT NULL CHECK (teu >= 0),
    imdg_class       text,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL
);

CREATE INDEX cargo_events_mmsi_time_idx ON cargo_events (mmsi, event_time DESC);
CREATE INDEX cargo_events_berth_time_idx ON cargo_events (berth, event_time DESC);

-- Cargo moved per vessel and berth, since tracking began.
CREATE VIEW cargo_inventory AS
SELECT mmsi,
       berth,
       sum(teu) FILTER (WHERE operation = 'load')              AS teu_loaded,
       sum(teu) FILTER (WHERE operation = 'discharge')         AS teu_discharged,
       sum(containers) FILTER (WHERE operation = 'load')       AS containers_loaded,
       sum(containers) FILTER (WHERE operation = 'discharge')  AS containers_discharged,
       array_agg(DISTINCT imdg_class) FILTER (WHERE imdg_class IS NOT NULL) AS imdg_classes,
       max(event_time)                                         AS last_event_time
FROM cargo_events
GROUP BY mmsi, berth;

CREATE TABLE port_ops_events (
    event_id         text        PRIMARY KEY,
    event_time       timestamptz NOT NULL,
    mmsi             integer     NOT NULL CHECK (mmsi BETWEEN 100000000 AND 999999999),
    kind             text        NOT NULL,
    resource         text        NOT NULL,
    shift            text,
    berth            text,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL
);

CREATE INDEX port_ops_events_mmsi_time_idx ON port_ops_events (mmsi, event_time DESC);

-- Confirmed zone entries and exits. The processors date a transition at the
-- first fix on the new side, so (mmsi, zone, at, direction) is its identity.
CREATE TABLE zone_events (
    mmsi       integer     NOT NULL,
    zone       text        NOT NULL,
    zone_kind  text        NOT NULL,
    direction  text        NOT NULL CHECK (direction IN ('entered', 'exited')),
    event_time timestamptz NOT NULL,
    stay_s     bigint,
    PRIMARY KEY (mmsi, zone, event_time, direction)
);

CREATE INDEX zone_events_zone_time_idx ON zone_events (zone, event_time DESC);

-- Vessels in each zone now: the last transition per (vessel, zone) is an entry.
CREATE VIEW vessels_in_zone AS
SELECT zone, zone_kind, mmsi, event_time AS entered_at
FROM (
    SELECT DISTINCT ON (mmsi, zone) *
    FROM zone_events
    ORDER BY mmsi, zone, event_time DESC, direction DESC
) last
WHERE direction = 'entered';

-- One row per port call, upserted by the processors' stable id. Phases and
-- timestamps only move forward (see sinks/sql/merge_port_calls.sql).
CREATE TABLE port_calls (
    id               text        PRIMARY KEY,
    mmsi             integer     NOT NULL,
    phase            text        NOT NULL,
    phase_rank       smallint    NOT NULL,
    last_event_time  timestamptz NOT NULL,
    arrived_at       timestamptz NOT NULL,
    arrival_observed boolean     NOT NULL,
    anchored_at      timestamptz,
    waiting_time_s   bigint      NOT NULL,
    berth            text,
    berthed_at       timestamptz,
    unberthed_at     timestamptz,
    service_time_s   bigint      NOT NULL,
    departed_at      timestamptz,
    teu_loaded       bigint      NOT NULL,
    teu_discharged   bigint      NOT NULL,
    services         jsonb       NOT NULL DEFAULT '[]',
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX port_calls_phase_time_idx ON port_calls (phase, last_event_time DESC);
CREATE INDEX port_calls_mmsi_arrived_idx ON port_calls (mmsi, arrived_at DESC);
CREATE INDEX port_calls_open_idx ON port_calls (arrived_at DESC) WHERE departed_at IS NULL;

CREATE TABLE anomalies (
    mmsi       integer     NOT NULL,
    event_time timestamptz NOT NULL,
    kind       text        NOT NULL,
    zone       text,
    details    jsonb       NOT NULL,
    PRIMARY KEY (mmsi, event_time, kind)
);

CREATE INDEX anomalies_time_idx ON anomalies (event_time DESC);
CREATE INDEX anomalies_kind_time_idx ON anomalies (kind, event_time DESC);

CREATE TABLE weather_alerts (
    zone       text        NOT NULL,
    station    text        NOT NULL,
    event_time timestamptz NOT NULL,
    kind       text        NOT NULL,
    value      real        NOT NULL,
    "limit"    real        NOT NULL,
    raised     boolean     NOT NULL,
    PRIMARY KEY (zone, event_time, kind, station)
);

CREATE INDEX weather_alerts_time_idx ON weather_alerts (event_time DESC);

-- Per-(zone, partition) congestion partials, as emitted by the processors'
-- snapshots (history: one row per snapshot time).
CREATE TABLE congestion_partials (
    zone                  text        NOT NULL,
    partition             integer     NOT NULL,
    snapshot_time         timestamptz NOT NULL,
    zone_kind             text        NOT NULL,
    berth_length_m        integer,
    vessels_present       bigint      NOT NULL,
    queue_length          bigint      NOT NULL,
    waiting_now_s         bigint[]    NOT NULL,
    waits_completed_s     bigint[]    NOT NULL,
    rate_window_s         integer     NOT NULL,
    entries               bigint      NOT NULL,
    exits                 bigint      NOT NULL,
    moored_vessels        bigint      NOT NULL,
    moored_length_m       bigint      NOT NULL,
    moored_without_length bigint      NOT NULL,
    hazardous_vessels     bigint      NOT NULL,
    teu_loaded            bigint      NOT NULL,
    teu_discharged        bigint      NOT NULL,
    weather               jsonb,
    PRIMARY KEY (zone, partition, snapshot_time)
);

CREATE INDEX congestion_partials_time_idx ON congestion_partials (snapshot_time DESC);

-- The merge of the latest partial of every (zone, partition): the SQL twin
-- of porttrack_processors::merge (sums; waits pooled, p90 by nearest rank,
-- which is percentile_disc). The congestion *level* depends on configured
-- thresholds and is computed by `merge` in Rust, not here.
CREATE VIEW congestion AS
WITH latest AS (
    SELECT DISTINCT ON (zone, partition) *
    FROM congestion_partials
    ORDER BY zone, partition, snapshot_time DESC
)
SELECT l.zone,
       min(l.zone_kind)                                        AS zone_kind,
       max(l.snapshot_time)                                    AS snapshot_time,
       count(*)                                                AS partitions,
       sum(l.vessels_present)::bigint                          AS vessels_present,
       sum(l.queue_length)::bigint                             AS queue_length,
       (SELECT count(*) FROM latest w, unnest(w.waiting_now_s) v WHERE w.zone = l.zone) AS waiting_now_count,
       (SELECT avg(v) FROM latest w, unnest(w.waiting_now_s) v WHERE w.zone = l.zone)   AS waiting_now_mean_s,
       (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY v)
          FROM latest w, unnest(w.waiting_now_s) v WHERE w.zone = l.zone)              AS waiting_now_p90_s,
       (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY v)
          FROM latest w, unnest(w.waits_completed_s) v WHERE w.zone = l.zone)          AS waits_completed_p90_s,
       sum(l.entries)::double precision * 3600 / greatest(min(l.rate_window_s), 1) AS arrivals_per_hour,
       sum(l.exits)::double precision * 3600 / greatest(min(l.rate_window_s), 1)   AS departures_per_hour,
       CASE WHEN min(l.zone_kind) = 'berth' AND min(l.berth_length_m) IS NOT NULL
            THEN sum(l.moored_length_m)::double precision / greatest(min(l.berth_length_m), 1)
       END                                                     AS berth_occupancy,
       sum(l.moored_vessels)::bigint                           AS moored_vessels,
       sum(l.moored_without_length)::bigint                    AS moored_without_length,
       sum(l.hazardous_vessels)::bigint                        AS hazardous_vessels,
       sum(l.teu_loaded)::bigint                               AS teu_loaded,
       sum(l.teu_discharged)::bigint                           AS teu_discharged
FROM latest l
GROUP BY l.zone;

-- Dead letters, one row per refused record (keyed by its coordinates, so the
-- at-least-once dead-letter path cannot double count), summarised per class
-- per hour by the view below.
CREATE TABLE dead_letters (
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    source_index     smallint    NOT NULL DEFAULT 0,
    class            text        NOT NULL,
    reason           text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL,
    PRIMARY KEY (source_topic, source_partition, source_offset, source_index)
);

CREATE INDEX dead_letters_time_idx ON dead_letters (dead_lettered_at DESC);

CREATE VIEW dead_letters_hourly AS
SELECT date_trunc('hour', dead_lettered_at) AS hour, class, source_topic, count(*) AS records
FROM dead_letters
GROUP BY 1, 2, 3;

-- vessel_state gains the coordinates' event index (NMEA records hold
-- several sentences). No more indexes on it: every batch updates a row per
-- vessel, and each index makes those updates dearer.
ALTER TABLE vessel_state ADD COLUMN source_index smallint NOT NULL DEFAULT 0;
