-- Safety messages (AIS 12/14) in [$1, $2), newest first, at most $3
-- (safety_messages_time_idx), with where the sender was (the view) and its
-- name: the vessel's, else the station's.
SELECT s.source_topic, s.source_partition, s.source_offset, s.source_index, s.event_time, s.mmsi,
       s.addressed, s.dest_mmsi, s.sequence, s.retransmit, s.text, s.lat, s.lon, s.located_by,
       coalesce(v.shipname, st.name) AS name
FROM safety_messages_located s
LEFT JOIN vessels v ON v.mmsi = s.mmsi
LEFT JOIN stations st ON st.mmsi = s.mmsi
WHERE s.event_time >= $1 AND s.event_time < $2
ORDER BY s.event_time DESC
LIMIT $3
