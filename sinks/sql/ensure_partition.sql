-- Creates the positions partition of a day if missing (idempotent; see V2).
SELECT porttrack_ensure_positions_partition($1::date)
