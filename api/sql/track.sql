-- A vessel's recent track: positions_mmsi_time_idx, a bounded range (the
-- caller caps it at 48 h) and a limit, newest kept.
SELECT event_time, lat, lon, sog, cog
FROM positions
WHERE mmsi = $1 AND event_time >= $2 AND event_time <= $3
ORDER BY event_time DESC
LIMIT $4
