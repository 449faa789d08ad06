-- Latest report per station. The sink coalesces a batch to one row per MMSI
-- (its newest: event time, then offset, then index), since ON CONFLICT DO
-- UPDATE may not touch a row twice. The WHERE guard makes it idempotent and
-- order-proof: a replayed or late report never overwrites a newer one, and
-- replaying the current one writes nothing (updated_at does not move).
INSERT INTO stations AS s (mmsi, kind, event_time, lat, lon, name, aid_type, virtual_aid, off_position, epfd,
                           to_bow, to_stern, to_port, to_starboard, station_time,
                           source_topic, source_partition, source_offset, source_index)
SELECT mmsi, kind, event_time, lat, lon, name, aid_type, virtual_aid, off_position, epfd,
       to_bow, to_stern, to_port, to_starboard, station_time,
       source_topic, source_partition, source_offset, source_index
FROM stage_stations
ON CONFLICT (mmsi) DO UPDATE SET
    kind             = EXCLUDED.kind,
    event_time       = EXCLUDED.event_time,
    lat              = EXCLUDED.lat,
    lon              = EXCLUDED.lon,
    name             = EXCLUDED.name,
    aid_type         = EXCLUDED.aid_type,
    virtual_aid      = EXCLUDED.virtual_aid,
    off_position     = EXCLUDED.off_position,
    epfd             = EXCLUDED.epfd,
    to_bow           = EXCLUDED.to_bow,
    to_stern         = EXCLUDED.to_stern,
    to_port          = EXCLUDED.to_port,
    to_starboard     = EXCLUDED.to_starboard,
    station_time     = EXCLUDED.station_time,
    source_topic     = EXCLUDED.source_topic,
    source_partition = EXCLUDED.source_partition,
    source_offset    = EXCLUDED.source_offset,
    source_index     = EXCLUDED.source_index,
    updated_at       = now()
WHERE (s.event_time, s.source_offset, s.source_index)
    < (EXCLUDED.event_time, EXCLUDED.source_offset, EXCLUDED.source_index)
