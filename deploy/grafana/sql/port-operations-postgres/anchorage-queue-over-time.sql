-- Anchorage queues over time. Each partition reports its share of a zone:
-- within a time bucket take each partition's largest report, then add the
-- partitions up.
SELECT "time", zone AS metric, sum(queue) AS queue
FROM (
    SELECT $__timeGroup(snapshot_time, $__interval) AS "time", zone, partition, max(queue_length) AS queue
    FROM congestion_partials
    WHERE $__timeFilter(snapshot_time)
      AND zone_kind = 'anchorage'
      AND zone IN ($zone)
    GROUP BY 1, 2, 3
) per_partition
GROUP BY 1, 2
ORDER BY 1, 2
