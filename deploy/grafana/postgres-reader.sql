-- A read-only role for Grafana's Postgres data source
-- (provisioning/datasources/postgres.yml): SELECT on what the dashboards
-- read, nothing else, every statement bounded. Run once per database as its
-- owner, then give it a password:
--   psql "$DATABASE_URL" -f deploy/grafana/postgres-reader.sql
--   psql "$DATABASE_URL" -c "ALTER ROLE porttrack_grafana PASSWORD '...'"
-- tests/grafana_sql.rs runs every dashboard query as this role.
DO $$
BEGIN
    CREATE ROLE porttrack_grafana LOGIN;
EXCEPTION
    -- Roles belong to the server: one made for another database is reused.
    WHEN duplicate_object THEN NULL;
END
$$;

-- A dashboard left open must never hold the database: short statements,
-- read-only transactions.
ALTER ROLE porttrack_grafana SET statement_timeout = '10s';
ALTER ROLE porttrack_grafana SET default_transaction_read_only = on;

GRANT USAGE ON SCHEMA public TO porttrack_grafana;
GRANT SELECT ON vessel_state, vessels, port_calls, congestion_partials, congestion,
    anomalies, weather_alerts TO porttrack_grafana;
