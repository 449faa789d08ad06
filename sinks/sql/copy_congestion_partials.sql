COPY stage_congestion_partials (zone, partition, snapshot_time, zone_kind, berth_length_m, vessels_present,
                                queue_length, waiting_now_s, waits_completed_s, rate_window_s, entries, exits,
                                moored_vessels, moored_length_m, moored_without_length, hazardous_vessels,
                                teu_loaded, teu_discharged, weather)
FROM STDIN (FORMAT binary)
