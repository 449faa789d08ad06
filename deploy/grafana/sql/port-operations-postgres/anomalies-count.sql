-- Anomalies detected in the time range.
SELECT count(*) AS anomalies
FROM anomalies
WHERE $__timeFilter(event_time)
