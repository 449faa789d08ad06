-- Keyed by the operator's event id: a replay inserts nothing.
INSERT INTO port_ops_events SELECT * FROM stage_port_ops_events ON CONFLICT DO NOTHING
