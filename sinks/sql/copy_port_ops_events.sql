COPY stage_port_ops_events (event_id, event_time, mmsi, kind, resource, shift, berth,
                            source_topic, source_partition, source_offset)
FROM STDIN (FORMAT binary)
