-- $1 group_id, $2 partitions
SELECT partition, state
FROM processor_state
WHERE group_id = $1 AND partition = ANY($2)
