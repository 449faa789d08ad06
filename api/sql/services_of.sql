-- A vessel's port services, newest first (port_ops_events_mmsi_time_idx).
SELECT event_id, event_time, mmsi, kind, resource, shift, berth
FROM port_ops_events
WHERE mmsi = $1
ORDER BY event_time DESC
LIMIT $2
