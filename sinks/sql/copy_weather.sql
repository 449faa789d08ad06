COPY stage_weather (station, event_time, zone, lat, lon, wind_speed_kn, wind_gust_kn, wind_direction_deg,
                    visibility_nm, wave_height_m, pressure_hpa, air_temperature_c,
                    source_topic, source_partition, source_offset)
FROM STDIN (FORMAT binary)
