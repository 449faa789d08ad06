-- Calls that departed at or after $1 (port_calls_phase_time_idx: a departed
-- call's last event is its departure).
SELECT pc.id, pc.mmsi, v.shipname, pc.phase, pc.arrived_at, pc.anchored_at, pc.waiting_time_s, pc.berth,
       pc.berthed_at, pc.unberthed_at, pc.service_time_s, pc.departed_at, pc.teu_loaded, pc.teu_discharged,
       pc.services, pc.last_event_time
FROM port_calls pc
LEFT JOIN vessels v ON v.mmsi = pc.mmsi
WHERE pc.phase = 'departed' AND pc.last_event_time >= $1 AND pc.departed_at >= $1
ORDER BY pc.departed_at DESC
LIMIT $2
