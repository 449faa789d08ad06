-- The latest partial of every (zone, partition) within $1 seconds of the
-- newest snapshot (congestion_partials_time_idx bounds the scan; the
-- history table keeps every snapshot). The Rust side merges them with
-- porttrack_processors::merge, which also computes the level.
SELECT DISTINCT ON (zone, partition)
       zone, partition, snapshot_time, zone_kind, berth_length_m, vessels_present, queue_length,
       waiting_now_s, waits_completed_s, rate_window_s, entries, exits, moored_vessels, moored_length_m,
       moored_without_length, hazardous_vessels, teu_loaded, teu_discharged, weather
FROM congestion_partials
WHERE snapshot_time >= (SELECT max(snapshot_time) FROM congestion_partials) - make_interval(secs => $1)
ORDER BY zone, partition, snapshot_time DESC
