-- Vessels reporting in the time range, by movement.
SELECT CASE
           WHEN nav_status = 1 THEN 'anchored'
           WHEN nav_status = 5 THEN 'moored'
           WHEN sog IS NULL THEN 'unknown'
           WHEN sog < 0.5 THEN 'stopped'
           ELSE 'under_way'
       END AS movement,
       count(*) AS vessels
FROM vessel_state
WHERE $__timeFilter(event_time)
GROUP BY 1
ORDER BY 2 DESC
