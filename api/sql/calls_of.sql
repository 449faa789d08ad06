-- A vessel's port calls, newest first (port_calls_mmsi_arrived_idx).
SELECT pc.id, pc.mmsi, v.shipname, pc.phase, pc.arrived_at, pc.anchored_at, pc.waiting_time_s, pc.berth,
       pc.berthed_at, pc.unberthed_at, pc.service_time_s, pc.departed_at, pc.teu_loaded, pc.teu_discharged,
       pc.services, pc.last_event_time
FROM port_calls pc
LEFT JOIN vessels v ON v.mmsi = pc.mmsi
WHERE pc.mmsi = $1
ORDER BY pc.arrived_at DESC
LIMIT $2
