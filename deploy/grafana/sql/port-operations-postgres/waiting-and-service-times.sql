-- Waiting time at anchor (calls that berthed in each bucket) and service
-- time at the berth (calls that unberthed in each bucket), median and 90th
-- percentile, in seconds.
SELECT "time",
       max(wait_p50) AS "waiting p50",
       max(wait_p90) AS "waiting p90",
       max(service_p50) AS "service p50",
       max(service_p90) AS "service p90"
FROM (
    SELECT $__timeGroup(berthed_at, $__interval) AS "time",
           percentile_cont(0.5) WITHIN GROUP (ORDER BY waiting_time_s) AS wait_p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY waiting_time_s) AS wait_p90,
           NULL::double precision AS service_p50,
           NULL::double precision AS service_p90
    FROM port_calls
    WHERE $__timeFilter(berthed_at)
      AND anchored_at IS NOT NULL
    GROUP BY 1
    UNION ALL
    SELECT $__timeGroup(unberthed_at, $__interval),
           NULL, NULL,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY service_time_s),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY service_time_s)
    FROM port_calls
    WHERE $__timeFilter(unberthed_at)
    GROUP BY 1
) buckets
GROUP BY 1
ORDER BY 1
