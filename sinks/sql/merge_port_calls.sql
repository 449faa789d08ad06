-- Port calls upserted by id (one staged row per id: the sink coalesces).
-- Everything only moves forward, whatever order updates arrive in:
-- "first" times take the earliest known (least() ignores NULLs), "last"
-- times and accumulated durations/TEU the greatest, and the phase, berth and
-- services follow the update with the most progress (event time, then phase).
-- The phase ranks and the forward-only rules are porttrack_processors::CallStage
-- (rank, FORWARD_ONLY); sinks/src/derived.rs's tests fail if this file disagrees.
INSERT INTO port_calls AS p (id, mmsi, phase, phase_rank, last_event_time, arrived_at, arrival_observed,
                             anchored_at, waiting_time_s, berth, berthed_at, unberthed_at, service_time_s,
                             departed_at, teu_loaded, teu_discharged, services)
SELECT id, mmsi, phase, phase_rank, last_event_time, arrived_at, arrival_observed,
       anchored_at, waiting_time_s, berth, berthed_at, unberthed_at, service_time_s,
       departed_at, teu_loaded, teu_discharged, services
FROM stage_port_calls
ON CONFLICT (id) DO UPDATE SET
    phase            = CASE WHEN (EXCLUDED.last_event_time, EXCLUDED.phase_rank) >= (p.last_event_time, p.phase_rank)
                            THEN EXCLUDED.phase ELSE p.phase END,
    phase_rank       = CASE WHEN (EXCLUDED.last_event_time, EXCLUDED.phase_rank) >= (p.last_event_time, p.phase_rank)
                            THEN EXCLUDED.phase_rank ELSE p.phase_rank END,
    berth            = CASE WHEN (EXCLUDED.last_event_time, EXCLUDED.phase_rank) >= (p.last_event_time, p.phase_rank)
                            THEN coalesce(EXCLUDED.berth, p.berth) ELSE coalesce(p.berth, EXCLUDED.berth) END,
    services         = CASE WHEN jsonb_array_length(EXCLUDED.services) >= jsonb_array_length(p.services)
                            THEN EXCLUDED.services ELSE p.services END,
    last_event_time  = greatest(p.last_event_time, EXCLUDED.last_event_time),
    arrival_observed = p.arrival_observed OR EXCLUDED.arrival_observed,
    anchored_at      = least(p.anchored_at, EXCLUDED.anchored_at),
    berthed_at       = least(p.berthed_at, EXCLUDED.berthed_at),
    unberthed_at     = greatest(p.unberthed_at, EXCLUDED.unberthed_at),
    departed_at      = greatest(p.departed_at, EXCLUDED.departed_at),
    waiting_time_s   = greatest(p.waiting_time_s, EXCLUDED.waiting_time_s),
    service_time_s   = greatest(p.service_time_s, EXCLUDED.service_time_s),
    teu_loaded       = greatest(p.teu_loaded, EXCLUDED.teu_loaded),
    teu_discharged   = greatest(p.teu_discharged, EXCLUDED.teu_discharged),
    updated_at       = now()
