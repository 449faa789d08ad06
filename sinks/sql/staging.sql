-- Per-session staging tables, created once per pooled connection. A batch
-- is COPYed (binary) into them and merged into the real tables by the
-- merge_*.sql statements, all in one transaction; ON COMMIT DELETE ROWS
-- empties them at commit, and a rollback discards what was staged.
-- Temporary tables write no WAL, so staging costs little beyond the COPY.
CREATE TEMP TABLE IF NOT EXISTS stage_positions (LIKE positions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_vessels (LIKE vessels INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_weather (LIKE weather INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_cargo_events (LIKE cargo_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_port_ops_events (LIKE port_ops_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_zone_events (LIKE zone_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_port_calls (LIKE port_calls INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_anomalies (LIKE anomalies INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_weather_alerts (LIKE weather_alerts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_congestion_partials (LIKE congestion_partials INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_dead_letters (LIKE dead_letters INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_safety_messages (LIKE safety_messages INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_met_hydro (LIKE met_hydro INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_stations (LIKE stations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
