-- Keyed by the terminal's event id: a replay inserts nothing.
INSERT INTO cargo_events SELECT * FROM stage_cargo_events ON CONFLICT DO NOTHING
