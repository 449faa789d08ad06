-- How many vessels the snapshot's filters match (all pages): a scan of
-- vessel_state, one row per vessel.
SELECT count(*)
FROM vessel_state s
WHERE s.event_time >= $1
  AND s.lon BETWEEN $2 AND $4
  AND s.lat BETWEEN $3 AND $5
