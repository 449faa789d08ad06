COPY stage_weather_alerts (zone, station, event_time, kind, value, "limit", raised) FROM STDIN (FORMAT binary)
