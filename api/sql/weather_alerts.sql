-- Weather alerts in [$1, $2), optionally of one kind, newest first (weather_alerts_time_idx).
SELECT zone, station, event_time, kind, value, "limit", raised
FROM weather_alerts
WHERE event_time >= $1 AND event_time < $2
  AND ($3::text IS NULL OR kind = $3)
ORDER BY event_time DESC
LIMIT $4
