-- A few rows in every table the Postgres dashboard reads, dated relative to
-- now(), to see the dashboard on an otherwise empty database:
--   psql "$PORTTRACK_POSTGRES__URL" -f deploy/grafana/sql/sample-data.sql
-- (after `porttrack migrate`). tests/grafana_sql.rs loads it into a fresh
-- database and requires every panel to show something. Zones are the
-- built-in Rotterdam geography's; the MMSIs are Dutch (244) and unlikely to
-- collide with the simulator's. Re-running it is harmless.

INSERT INTO vessels (mmsi, last_report, imo, callsign, shipname, shiptype, to_bow, to_stern, to_port, to_starboard, draught, destination, eta)
VALUES (244990001, now() - interval '2 hours', 9811000, 'PDAA', 'NOORDZEE TRADER', 71, 200, 50, 16, 16, 12.5, 'NLRTM', now() + interval '1 hour'),
       (244990002, now() - interval '2 hours', 9811001, 'PDAB', 'MAAS TANKER', 81, 150, 30, 12, 12, 9.8, 'NLRTM', NULL),
       (244990003, now() - interval '1 hour', NULL, 'PDAC', 'SMIT HERCULES', 52, 20, 10, 5, 5, 4.0, NULL, NULL)
ON CONFLICT (mmsi) DO NOTHING;

INSERT INTO vessel_state (mmsi, event_time, lat, lon, sog, cog, heading, nav_status, source_topic, source_partition, source_offset)
VALUES (244990001, now() - interval '1 minute', 51.9876, 3.9321, 0.1, 12.0, 15, 1, 'ais.positions', 0, 1),
       (244990002, now() - interval '2 minutes', 51.9540, 4.0470, 0.0, 270.0, 268, 5, 'ais.positions', 1, 1),
       (244990003, now() - interval '30 seconds', 51.9800, 4.0600, 8.4, 95.0, NULL, 0, 'ais.positions', 2, 1)
ON CONFLICT (mmsi) DO NOTHING;

INSERT INTO port_calls (id, mmsi, phase, phase_rank, last_event_time, arrived_at, arrival_observed, anchored_at, waiting_time_s,
                        berth, berthed_at, unberthed_at, service_time_s, departed_at, teu_loaded, teu_discharged, services)
VALUES ('244990001-sample-1', 244990001, 'anchored', 1, now() - interval '1 minute', now() - interval '3 hours', true,
        now() - interval '150 minutes', 0, NULL, NULL, NULL, 0, NULL, 0, 0, '[]'),
        ('244990002-sample-1', 244990002, 'berthed', 3, now() - interval '20 minutes', now() - interval '5 hours', true,
        now() - interval '290 minutes', 5400, 'Europoort', now() - interval '200 minutes', NULL, 0, NULL, 0, 0, '["pilot"]'),
        ('244990003-sample-1', 244990003, 'departed', 5, now() - interval '10 minutes', now() - interval '4 hours', true,
        now() - interval '230 minutes', 1800, 'Maasvlakte II', now() - interval '200 minutes', now() - interval '60 minutes', 8400,
        now() - interval '10 minutes', 420, 380, '["pilot", "tug"]')
ON CONFLICT (id) DO NOTHING;

INSERT INTO congestion_partials (zone, partition, snapshot_time, zone_kind, berth_length_m, vessels_present, queue_length,
                                 waiting_now_s, waits_completed_s, rate_window_s, entries, exits, moored_vessels, moored_length_m,
                                 moored_without_length, hazardous_vessels, teu_loaded, teu_discharged, weather)
SELECT z.zone, p.partition, now() - make_interval(mins => m.minutes), z.kind, z.berth_length_m,
       z.present + p.partition, z.queue + p.partition, z.waiting, z.completed, 3600, 3, 2,
       z.moored, z.moored_length, 0, 0, 0, 0, NULL
FROM (VALUES ('Maas North Anchorage', 'anchorage', NULL::integer, 4, 3, ARRAY[3600, 5400, 9000]::bigint[], ARRAY[1800, 7200]::bigint[], 0, 0),
             ('Europoort', 'berth', 1200, 2, 0, ARRAY[]::bigint[], ARRAY[]::bigint[], 2, 420)) AS z(zone, kind, berth_length_m, present, queue,
                                                                                                   waiting, completed, moored, moored_length),
     (VALUES (0), (1)) AS p(partition),
     (VALUES (5), (65), (125)) AS m(minutes)
ON CONFLICT (zone, partition, snapshot_time) DO NOTHING;

INSERT INTO anomalies (mmsi, event_time, kind, zone, details)
VALUES (244990003, now() - interval '40 minutes', 'speeding', 'Maasmond', '{"sog_kn": 14.2, "limit_kn": 10}'),
       (244990001, now() - interval '90 minutes', 'dark', NULL, '{"silent_s": 1200}')
ON CONFLICT (mmsi, event_time, kind) DO NOTHING;

INSERT INTO weather_alerts (zone, station, event_time, kind, value, "limit", raised)
VALUES ('Maas North Anchorage', 'sample-station', now() - interval '50 minutes', 'gust', 38.5, 34, true),
       ('Europoort', 'sample-station', now() - interval '80 minutes', 'visibility', 0.4, 0.5, true),
       ('Europoort', 'sample-station', now() - interval '30 minutes', 'visibility', 1.2, 0.5, false)
ON CONFLICT (zone, event_time, kind, station) DO NOTHING;
