-- Vessels waiting at the selected anchorages now (the congestion view: the
-- latest partial of every zone and partition, merged).
SELECT coalesce(sum(queue_length), 0) AS waiting
FROM congestion
WHERE zone_kind = 'anchorage'
  AND zone IN ($zone)
