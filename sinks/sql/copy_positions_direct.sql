-- The fast path: the batch's positions COPYed straight into the history,
-- inside a savepoint. Replays are rare; when one brings a row that is
-- already there, this COPY fails with a unique violation, the sink rolls
-- back to the savepoint and takes the staged path (copy_positions.sql, then
-- merge_positions.sql, which skips the rows already there).
COPY positions (event_time, source_topic, source_partition, source_offset, source_index,
                mmsi, lat, lon, sog, cog, heading, nav_status)
FROM STDIN (FORMAT binary)
