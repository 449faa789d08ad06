COPY stage_cargo_events (event_id, event_time, mmsi, voyage, berth, operation, containers, teu, imdg_class,
                         source_topic, source_partition, source_offset)
FROM STDIN (FORMAT binary)
