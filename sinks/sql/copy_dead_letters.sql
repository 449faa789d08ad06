COPY stage_dead_letters (source_topic, source_partition, source_offset, source_index, class, reason,
                         dead_lettered_at)
FROM STDIN (FORMAT binary)
