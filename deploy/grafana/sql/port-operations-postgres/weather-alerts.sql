-- Weather alert transitions in the time range (raised and cleared), newest
-- first, for the selected zones.
SELECT event_time,
       zone,
       kind,
       station,
       value,
       "limit",
       CASE WHEN raised THEN 'raised' ELSE 'cleared' END AS state
FROM weather_alerts
WHERE $__timeFilter(event_time)
  AND zone IN ($zone)
ORDER BY event_time DESC
LIMIT 500
