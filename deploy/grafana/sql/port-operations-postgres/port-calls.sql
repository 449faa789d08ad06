-- Port calls that started in the time range, newest first, with the
-- waiting and service times so far (an open wait or service counts up to
-- now).
SELECT c.arrived_at,
       c.mmsi,
       coalesce(v.shipname, c.mmsi::text) AS vessel,
       c.phase,
       c.anchored_at,
       CASE WHEN c.anchored_at IS NOT NULL AND c.berthed_at IS NULL AND c.departed_at IS NULL
            THEN greatest(c.waiting_time_s, extract(epoch FROM now() - c.anchored_at)::bigint)
            ELSE c.waiting_time_s
       END AS waiting_s,
       c.berth,
       c.berthed_at,
       CASE WHEN c.berthed_at IS NOT NULL AND c.unberthed_at IS NULL
            THEN greatest(c.service_time_s, extract(epoch FROM now() - c.berthed_at)::bigint)
            ELSE c.service_time_s
       END AS service_s,
       c.unberthed_at,
       c.departed_at,
       c.teu_loaded,
       c.teu_discharged
FROM port_calls c
LEFT JOIN vessels v ON v.mmsi = c.mmsi
WHERE $__timeFilter(c.arrived_at)
  AND c.phase IN ($phase)
ORDER BY c.arrived_at DESC
LIMIT 1000
