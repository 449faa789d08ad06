COPY stage_zone_events (mmsi, zone, zone_kind, direction, event_time, stay_s)
FROM STDIN (FORMAT binary)
