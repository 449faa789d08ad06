-- Port calls that ended in the time range.
SELECT count(*) AS departures
FROM port_calls
WHERE $__timeFilter(departed_at)
