-- $1 group_id, $2 partition, $3 version, $4 geography, $5 vessels, $6 state
INSERT INTO processor_state (group_id, partition, version, geography, vessels, state, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (group_id, partition) DO UPDATE
SET version = EXCLUDED.version,
    geography = EXCLUDED.geography,
    vessels = EXCLUDED.vessels,
    state = EXCLUDED.state,
    updated_at = EXCLUDED.updated_at
