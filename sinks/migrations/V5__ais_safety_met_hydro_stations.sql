-- What AIS carries beyond vessels (issue 16): safety-related texts,
-- meteorological and hydrological reports, base stations and aids to
-- navigation, and inland (ERI) static data merged into the vessel record.
--
-- Senders of the first three are often coast stations, whose MMSI is
-- 00MIDxxxx: below 10^8 as a number, so these tables accept 1..999999999
-- where the vessel tables demand nine significant digits.

-- Safety-related messages (AIS 12 addressed, 14 broadcast), one row per
-- message, keyed by the record's Kafka coordinates: the same warning sent
-- twice is two messages (repeats are deliberate), so there is no natural
-- key, and a replay inserts nothing.
CREATE TABLE safety_messages (
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    source_index     smallint    NOT NULL DEFAULT 0,
    event_time       timestamptz NOT NULL,
    mmsi             integer     NOT NULL CHECK (mmsi BETWEEN 1 AND 999999999),
    addressed        boolean     NOT NULL,
    dest_mmsi        integer     CHECK (dest_mmsi BETWEEN 1 AND 999999999),
    sequence         smallint    CHECK (sequence BETWEEN 0 AND 3),
    retransmit       boolean,
    text             text        NOT NULL,
    PRIMARY KEY (source_topic, source_partition, source_offset, source_index)
);

-- "Safety messages of the last hour" (the map, the duty officer's list) and
-- "what did this sender say".
CREATE INDEX safety_messages_time_idx ON safety_messages (event_time DESC);
CREATE INDEX safety_messages_mmsi_time_idx ON safety_messages (mmsi, event_time DESC);

-- Met-hydro reports (AIS 8/6, DAC 1 FID 31 or 11, …), keyed by (station,
-- event time) like `weather`: the same report heard by two receivers or
-- relayed on two topics is one observation, and the key is the station's
-- time series, which is how the table is read. A replay carries the same
-- event time (tag block or Kafka timestamp), so it inserts nothing. The
-- main measurements are columns; `details` keeps the whole application as
-- gpsd prints it (currents at depth, legends), so nothing is lost.
CREATE TABLE met_hydro (
    mmsi                    integer     NOT NULL CHECK (mmsi BETWEEN 1 AND 999999999),
    event_time              timestamptz NOT NULL,
    dac                     smallint    NOT NULL,
    fid                     smallint    NOT NULL,
    lat                     double precision CHECK (lat BETWEEN -90 AND 90),
    lon                     double precision CHECK (lon BETWEEN -180 AND 180),
    report_day              smallint,
    report_hour             smallint,
    report_minute           smallint,
    wind_speed_kn           real,
    wind_gust_kn            real,
    wind_direction_deg      smallint,
    wind_gust_direction_deg smallint,
    air_temperature_c       real,
    humidity_pct            smallint,
    dew_point_c             real,
    pressure_hpa            real,
    pressure_tendency       smallint,
    visibility_nm           real,
    visibility_greater      boolean,
    water_level_m           real,
    water_level_trend       smallint,
    current_speed_kn        real,
    current_direction_deg   smallint,
    wave_height_m           real,
    wave_period_s           smallint,
    wave_direction_deg      smallint,
    swell_height_m          real,
    swell_period_s          smallint,
    swell_direction_deg     smallint,
    sea_state               smallint,
    water_temperature_c     real,
    precipitation_type      smallint,
    salinity_permille       real,
    ice                     smallint,
    details                 jsonb,
    source_topic            text        NOT NULL,
    source_partition        integer     NOT NULL,
    source_offset           bigint      NOT NULL,
    source_index            smallint    NOT NULL DEFAULT 0,
    PRIMARY KEY (mmsi, event_time)
);

-- "The latest readings around the port".
CREATE INDEX met_hydro_time_idx ON met_hydro (event_time DESC);

-- Base stations (4), UTC responses (11) and aids to navigation (21): the
-- latest report per MMSI, guarded by event time (then offset, then index)
-- like vessel_state, so a replayed or late report never overwrites a newer
-- one. Each report carries the station's whole state, so the newest
-- replaces the row rather than merging into it.
CREATE TABLE stations (
    mmsi             integer     PRIMARY KEY CHECK (mmsi BETWEEN 1 AND 999999999),
    kind             text        NOT NULL CHECK (kind IN ('base_station', 'utc_response', 'aid_to_navigation')),
    event_time       timestamptz NOT NULL,
    lat              double precision CHECK (lat BETWEEN -90 AND 90),
    lon              double precision CHECK (lon BETWEEN -180 AND 180),
    name             text,
    aid_type         smallint CHECK (aid_type BETWEEN 0 AND 31),
    virtual_aid      boolean,
    off_position     boolean,
    epfd             smallint,
    to_bow           smallint,
    to_stern         smallint,
    to_port          smallint,
    to_starboard     smallint,
    station_time     timestamptz,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    source_index     smallint    NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Aids to navigation off their charted position: what the duty officer checks.
CREATE INDEX stations_off_position_idx ON stations (event_time DESC) WHERE off_position;

-- Safety messages with where their sender was: the sender's last position
-- at or before the message (vessels, from the history, within an hour), else
-- the station's position (coast stations, aids to navigation). Read by the
-- map; `located_by` says which.
CREATE VIEW safety_messages_located AS
SELECT s.*,
       coalesce(p.lat, st.lat)                                   AS lat,
       coalesce(p.lon, st.lon)                                   AS lon,
       CASE WHEN p.lat IS NOT NULL THEN 'vessel_position'
            WHEN st.lat IS NOT NULL THEN 'station'
       END                                                       AS located_by
FROM safety_messages s
LEFT JOIN LATERAL (
    SELECT lat, lon
    FROM positions
    WHERE positions.mmsi = s.mmsi
      AND positions.event_time <= s.event_time
      AND positions.event_time > s.event_time - interval '1 hour'
    ORDER BY positions.event_time DESC
    LIMIT 1
) p ON true
LEFT JOIN stations st ON st.mmsi = s.mmsi;

-- Inland static and voyage data (AIS 8, DAC 200 FID 10, ERI) merged into the
-- vessel record like the other static fields: a newer report fills what it
-- has and never blanks; an older one only fills blanks.
ALTER TABLE vessels
    ADD COLUMN eni              text,
    ADD COLUMN inland_ship_type smallint CHECK (inland_ship_type BETWEEN 0 AND 9999),
    ADD COLUMN hazard           smallint CHECK (hazard BETWEEN 0 AND 4),
    ADD COLUMN loaded           boolean,
    ADD COLUMN length_m         real,
    ADD COLUMN beam_m           real;
