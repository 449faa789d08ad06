-- One row per (station, event time): a replay, or the same report heard by
-- two receivers at the same time, inserts nothing.
INSERT INTO met_hydro SELECT * FROM stage_met_hydro ON CONFLICT DO NOTHING
