COPY stage_safety_messages (source_topic, source_partition, source_offset, source_index, event_time,
                            mmsi, addressed, dest_mmsi, sequence, retransmit, text)
FROM STDIN (FORMAT binary)
