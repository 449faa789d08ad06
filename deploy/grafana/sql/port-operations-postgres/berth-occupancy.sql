-- Share of each berth's quay length occupied by moored vessels, now.
SELECT zone AS berth, coalesce(berth_occupancy, 0) AS occupancy
FROM congestion
WHERE zone_kind = 'berth'
  AND zone IN ($zone)
ORDER BY zone
