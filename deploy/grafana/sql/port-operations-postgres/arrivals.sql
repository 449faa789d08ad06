-- Port calls that started in the time range.
SELECT count(*) AS arrivals
FROM port_calls
WHERE $__timeFilter(arrived_at)
