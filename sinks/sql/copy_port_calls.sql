COPY stage_port_calls (id, mmsi, phase, phase_rank, last_event_time, arrived_at, arrival_observed,
                       anchored_at, waiting_time_s, berth, berthed_at, unberthed_at, service_time_s,
                       departed_at, teu_loaded, teu_discharged, services)
FROM STDIN (FORMAT binary)
