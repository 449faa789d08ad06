-- Latest state per vessel, coalesced per batch (DISTINCT ON: one row per
-- MMSI, as ON CONFLICT DO UPDATE may not touch a row twice). The WHERE guard
-- makes it idempotent and order-proof: a replayed or late report never
-- overwrites a newer one, and replaying the current one writes nothing.
INSERT INTO vessel_state AS v
    (mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
     source_topic, source_partition, source_offset, source_index, updated_at)
SELECT DISTINCT ON (mmsi)
       mmsi, event_time, lat, lon, sog, cog, heading, nav_status,
       source_topic, source_partition, source_offset, source_index, now()
FROM stage_positions
ORDER BY mmsi, event_time DESC, source_offset DESC, source_index DESC
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
