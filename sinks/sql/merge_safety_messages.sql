-- One row per message, keyed by its Kafka coordinates: a replay inserts nothing.
INSERT INTO safety_messages (source_topic, source_partition, source_offset, source_index, event_time,
                             mmsi, addressed, dest_mmsi, sequence, retransmit, text)
SELECT source_topic, source_partition, source_offset, source_index, event_time,
       mmsi, addressed, dest_mmsi, sequence, retransmit, text
FROM stage_safety_messages
ON CONFLICT DO NOTHING
