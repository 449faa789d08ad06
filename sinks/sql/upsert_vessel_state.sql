-- Latest state per vessel. The sink coalesces each batch to one row per
-- MMSI (its newest report: event time, then offset, then index), since
-- ON CONFLICT DO UPDATE may not touch a row twice, and passes the rows as
-- arrays: one statement, no staging round trip. The WHERE guard makes it
-- idempotent and order-proof: a replayed or late report never overwrites a
-- newer one, and replaying the current one writes nothing.
INSERT INTO vessel_state AS v
    (mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
     source_topic, source_partition, source_offset, source_index, updated_at)
SELECT mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
       source_topic, source_partition, source_offset, source_index, now()
FROM unnest($1::integer[], $2::timestamptz[], $3::double precision[], $4::double precision[],
            $5::real[], $6::real[], $7::smallint[], $8::smallint[],
            $9::text[], $10::integer[], $11::bigint[], $12::smallint[])
     AS s (mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
           source_topic, source_partition, source_offset, source_index)
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
    source_index     = EXCLUDED.source_index,
    updated_at       = EXCLUDED.updated_at
WHERE (v.event_time, v.source_offset, v.source_index)
    < (EXCLUDED.event_time, EXCLUDED.source_offset, EXCLUDED.source_index)
