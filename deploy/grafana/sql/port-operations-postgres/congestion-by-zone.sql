-- Congestion per zone now: the congestion view merges the latest partial of
-- every (zone, partition). The level itself (free … severe) depends on the
-- pipeline's configured thresholds and is not in the database; queue and
-- waiting times are.
SELECT zone,
       zone_kind AS kind,
       vessels_present,
       queue_length,
       waiting_now_count,
       round(waiting_now_mean_s)::bigint AS waiting_mean_s,
       waiting_now_p90_s AS waiting_p90_s,
       waits_completed_p90_s AS completed_wait_p90_s,
       berth_occupancy,
       moored_vessels,
       round(arrivals_per_hour::numeric, 1) AS arrivals_per_hour,
       round(departures_per_hour::numeric, 1) AS departures_per_hour,
       snapshot_time
FROM congestion
WHERE zone IN ($zone)
ORDER BY queue_length DESC, vessels_present DESC, zone
