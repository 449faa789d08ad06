COPY stage_stations (mmsi, kind, event_time, lat, lon, name, aid_type, virtual_aid, off_position, epfd,
                     to_bow, to_stern, to_port, to_starboard, station_time,
                     source_topic, source_partition, source_offset, source_index)
FROM STDIN (FORMAT binary)
