-- A partial is a pure function of its partition's state at its time, so a
-- replay (or the partition's next owner) produces the same row: skip it.
INSERT INTO congestion_partials SELECT * FROM stage_congestion_partials ON CONFLICT DO NOTHING
