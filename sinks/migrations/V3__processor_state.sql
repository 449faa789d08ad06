-- Checkpoints of the port processor's per-partition state (vessel routes,
-- zone history, counters), so a partition that moves to another instance, or
-- an instance that restarts, resumes exactly where the committed offsets are.
-- One row per (consumer group, partition); the pipeline replaces it before it
-- commits the offsets the state reflects.
CREATE TABLE processor_state (
    group_id    text        NOT NULL,
    partition   integer     NOT NULL CHECK (partition >= 0),
    version     integer     NOT NULL,
    geography   bigint      NOT NULL,  -- fingerprint of the port geography (u64 bits)
    vessels     integer     NOT NULL,
    state       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, partition)
);
