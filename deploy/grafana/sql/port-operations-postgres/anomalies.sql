-- Anomalies in the time range, newest first.
SELECT a.event_time,
       a.kind,
       a.mmsi,
       coalesce(v.shipname, a.mmsi::text) AS vessel,
       a.zone,
       a.details::text AS details
FROM anomalies a
LEFT JOIN vessels v ON v.mmsi = a.mmsi
WHERE $__timeFilter(a.event_time)
ORDER BY a.event_time DESC
LIMIT 500
