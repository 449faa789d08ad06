COPY stage_positions (event_time, source_topic, source_partition, source_offset, source_index,
                      mmsi, lat, lon, sog, cog, heading, nav_status)
FROM STDIN (FORMAT binary)
