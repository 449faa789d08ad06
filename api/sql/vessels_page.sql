-- One page of the vessels snapshot when no filter needs Rust (no type,
-- movement or zone): by MMSI after the cursor $6, at most $7 rows, along
-- the primary keys (a merge join that stops at the limit).
SELECT s.mmsi, s.event_time, s.lat, s.lon, s.sog, s.cog, s.heading, s.nav_status, s.updated_at,
       v.shipname, v.callsign, v.imo, v.shiptype, v.to_bow, v.to_stern, v.to_port, v.to_starboard,
       v.draught, v.destination, v.eta, c.id AS call_id, c.phase AS call_phase
FROM vessel_state s
LEFT JOIN vessels v ON v.mmsi = s.mmsi
LEFT JOIN LATERAL (
    SELECT id, phase FROM port_calls
    WHERE mmsi = s.mmsi AND departed_at IS NULL
    ORDER BY arrived_at DESC LIMIT 1
) c ON true
WHERE s.event_time >= $1
  AND s.lon BETWEEN $2 AND $4
  AND s.lat BETWEEN $3 AND $5
  AND s.mmsi > $6
ORDER BY s.mmsi
LIMIT $7
