-- The vessels snapshot: latest state per vessel (one row each), its static
-- data and its open port call, inside a bounding box, reported since $1.
-- vessel_state is read whole by design (one row per vessel, no index but
-- the key: see sinks/migrations/V4); the open calls come from the partial
-- index port_calls_open_idx.
SELECT s.mmsi, s.event_time, s.lat, s.lon, s.sog, s.cog, s.heading, s.nav_status, s.updated_at,
       v.shipname, v.callsign, v.imo, v.shiptype, v.to_bow, v.to_stern, v.to_port, v.to_starboard,
       v.draught, v.destination, v.eta, c.id AS call_id, c.phase AS call_phase
FROM vessel_state s
LEFT JOIN vessels v ON v.mmsi = s.mmsi
LEFT JOIN (
    SELECT DISTINCT ON (mmsi) mmsi, id, phase
    FROM port_calls
    WHERE departed_at IS NULL
    ORDER BY mmsi, arrived_at DESC
) c ON c.mmsi = s.mmsi
WHERE s.event_time >= $1
  AND s.lon BETWEEN $2 AND $4
  AND s.lat BETWEEN $3 AND $5
ORDER BY s.mmsi
