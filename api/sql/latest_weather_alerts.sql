-- The latest alert per (zone, kind) since $1: raised means active.
SELECT DISTINCT ON (zone, kind) zone, station, event_time, kind, value, "limit", raised
FROM weather_alerts
WHERE event_time >= $1
ORDER BY zone, kind, event_time DESC, station
