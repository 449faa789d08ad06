-- Port calls open now or started in the time range, by phase.
SELECT phase, count(*) AS calls
FROM port_calls
WHERE (departed_at IS NULL OR $__timeFilter(arrived_at))
  AND phase IN ($phase)
GROUP BY phase
ORDER BY min(phase_rank)
