COPY stage_anomalies (mmsi, event_time, kind, zone, details) FROM STDIN (FORMAT binary)
