-- One row per refused record, keyed by its coordinates: the dead-letter path
-- is at-least-once, the summary (view dead_letters_hourly) counts each once.
INSERT INTO dead_letters SELECT * FROM stage_dead_letters ON CONFLICT DO NOTHING
