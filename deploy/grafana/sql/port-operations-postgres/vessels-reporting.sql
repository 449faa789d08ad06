-- Vessels whose latest position is inside the dashboard's time range.
-- vessel_state holds one row per vessel (read whole by design).
SELECT count(*) AS vessels
FROM vessel_state
WHERE $__timeFilter(event_time)
