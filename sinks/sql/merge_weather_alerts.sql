INSERT INTO weather_alerts SELECT * FROM stage_weather_alerts ON CONFLICT DO NOTHING
