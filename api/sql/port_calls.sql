-- Port calls by arrival time in [$1, $2) (the caller caps the range at 31
-- days), optionally by phase, berth and vessel, newest first.
SELECT pc.id, pc.mmsi, v.shipname, pc.phase, pc.arrived_at, pc.anchored_at, pc.waiting_time_s, pc.berth,
       pc.berthed_at, pc.unberthed_at, pc.service_time_s, pc.departed_at, pc.teu_loaded, pc.teu_discharged,
       pc.services, pc.last_event_time
FROM port_calls pc
LEFT JOIN vessels v ON v.mmsi = pc.mmsi
WHERE pc.arrived_at >= $1 AND pc.arrived_at < $2
  AND ($3::text IS NULL OR pc.phase = $3)
  AND ($4::text IS NULL OR pc.berth = $4)
  AND ($5::integer IS NULL OR pc.mmsi = $5)
ORDER BY pc.arrived_at DESC
LIMIT $6
