-- Weather alerts raised now: the latest state per (zone, kind) is "raised".
SELECT count(*) AS alerts
FROM (
    SELECT DISTINCT ON (zone, kind) raised
    FROM weather_alerts
    WHERE event_time > now() - interval '7 days'
      AND zone IN ($zone)
    ORDER BY zone, kind, event_time DESC
) latest
WHERE raised
