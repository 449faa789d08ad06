-- Anomalies in [$1, $2), optionally of one kind, newest first
-- (anomalies_time_idx / anomalies_kind_time_idx).
SELECT a.mmsi, v.shipname, a.event_time, a.kind, a.zone, a.details
FROM anomalies a
LEFT JOIN vessels v ON v.mmsi = a.mmsi
WHERE a.event_time >= $1 AND a.event_time < $2
  AND ($3::text IS NULL OR a.kind = $3)
ORDER BY a.event_time DESC
LIMIT $4
