INSERT INTO zone_events SELECT * FROM stage_zone_events ON CONFLICT DO NOTHING
