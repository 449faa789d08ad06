COPY stage_met_hydro (mmsi, event_time, dac, fid, lat, lon, report_day, report_hour, report_minute,
                     wind_speed_kn, wind_gust_kn, wind_direction_deg, wind_gust_direction_deg,
                     air_temperature_c, humidity_pct, dew_point_c, pressure_hpa, pressure_tendency,
                     visibility_nm, visibility_greater, water_level_m, water_level_trend,
                     current_speed_kn, current_direction_deg, wave_height_m, wave_period_s, wave_direction_deg,
                     swell_height_m, swell_period_s, swell_direction_deg, sea_state, water_temperature_c,
                     precipitation_type, salinity_permille, ice, details,
                     source_topic, source_partition, source_offset, source_index)
FROM STDIN (FORMAT binary)
