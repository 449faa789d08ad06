-- A vessel's cargo operations, newest first (cargo_events_mmsi_time_idx).
SELECT event_id, event_time, mmsi, voyage, berth, operation, containers, teu, imdg_class
FROM cargo_events
WHERE mmsi = $1
ORDER BY event_time DESC
LIMIT $2
