-- Upsert the latest state of each vessel in a batch (one row per MMSI: the
-- caller coalesces). The WHERE guard makes it idempotent and order-proof: a
-- replayed or late report never overwrites a newer one.
INSERT INTO vessel_state AS v
    (mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
     source_topic, source_partition, source_offset, updated_at)
SELECT u.*, now()
FROM UNNEST($1::integer[], $2::timestamptz[], $3::double precision[], $4::double precision[],
            $5::real[], $6::real[], $7::smallint[], $8::smallint[],
            $9::text[], $10::integer[], $11::bigint[])
     AS u(mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
          source_topic, source_partition, source_offset)
ON CONFLICT (mmsi) DO UPDATE SET
    event_time       = EXCLUDED.event_time,
    lat              = EXCLUDED.lat,
    lon              = EXCLUDED.lon,
    sog              = EXCLUDED.sog,
    cog              = EXCLUDED.cog,
    heading          = EXCLUDED.heading,
    nav_status       = EXCLUDED.nav_status,
    source_topic     = EXCLUDED.source_topic,
    source_partition = EXCLUDED.source_partition,
    source_offset    = EXCLUDED.source_offset,
    updated_at       = EXCLUDED.updated_at
WHERE (v.event_time, v.source_offset) <= (EXCLUDED.event_time, EXCLUDED.source_offset)
