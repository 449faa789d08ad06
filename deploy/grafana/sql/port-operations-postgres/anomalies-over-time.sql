-- Anomalies per time bucket, by kind.
SELECT $__timeGroupAlias(event_time, $__interval), kind AS metric, count(*) AS anomalies
FROM anomalies
WHERE $__timeFilter(event_time)
GROUP BY 1, 2
ORDER BY 1, 2
