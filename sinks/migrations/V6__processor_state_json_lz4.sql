-- Processor checkpoints stored as `json` text, compressed with lz4.
--
-- A checkpoint is one document per partition, ~3 kB of text per vessel
-- (3.5-3.9 MB per partition with 5,000 vessels over 4 partitions), replaced
-- every few seconds and read only when a partition is assigned. As `jsonb`
-- every save parsed the whole document into Postgres' binary form and then
-- compressed it with pglz; the stage waits for that, so it paid for nothing
-- it ever used (nothing queries inside the document). Measured in psql on
-- those four documents (15 MB): jsonb + pglz 454-474 ms per save, jsonb +
-- lz4 261-267 ms, json + pglz 213 ms, json + lz4 69-72 ms.
--
-- Backward compatible: every release binds the document as text accepted
-- for `json` and `jsonb` alike and reads it as a serde_json value, which
-- takes either; compression is invisible to clients. The rewrite takes a
-- short exclusive lock on a table of one row per partition.
ALTER TABLE processor_state ALTER COLUMN state TYPE json USING state::json;

-- lz4 when this server was built with it (Debian's and the official images
-- are); otherwise pglz stays, which costs speed, not correctness.
DO $$
BEGIN
    ALTER TABLE processor_state ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'processor_state.state keeps pglz: this server has no lz4 support';
END
$$;
