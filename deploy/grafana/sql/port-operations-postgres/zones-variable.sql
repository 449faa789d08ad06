-- The zone variable: zones that reported congestion in the last day.
SELECT DISTINCT zone
FROM congestion_partials
WHERE snapshot_time > now() - interval '1 day'
ORDER BY zone
