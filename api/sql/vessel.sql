-- One vessel by MMSI (primary keys; the open call by port_calls_mmsi_arrived_idx).
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
WHERE s.mmsi = $1
