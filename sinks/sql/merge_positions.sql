-- History: the key holds the Kafka coordinates, so a replay inserts nothing.
INSERT INTO positions (event_time, source_topic, source_partition, source_offset, source_index,
                       mmsi, lat, lon, sog, cog, heading, nav_status)
SELECT event_time, source_topic, source_partition, source_offset, source_index,
       mmsi, lat, lon, sog, cog, heading, nav_status
FROM stage_positions
ON CONFLICT DO NOTHING
