-- One row per (station, time): replays and duplicates insert nothing.
INSERT INTO weather SELECT * FROM stage_weather ON CONFLICT DO NOTHING
