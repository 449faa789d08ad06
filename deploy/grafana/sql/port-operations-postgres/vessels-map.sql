-- Every vessel's latest position with its static data, for the geomap.
-- Movement as the map shows it: AIS navigational status first (1 at anchor,
-- 5 moored), otherwise speed over ground (under 0.5 kn: stopped).
-- Type groups by AIS ship type, as the read API groups them.
SELECT s.mmsi,
       coalesce(v.shipname, s.mmsi::text) AS name,
       s.lat AS latitude,
       s.lon AS longitude,
       s.sog AS sog_kn,
       s.cog AS cog_deg,
       coalesce(s.heading, s.cog) AS heading_deg,
       CASE
           WHEN s.nav_status = 1 THEN 'anchored'
           WHEN s.nav_status = 5 THEN 'moored'
           WHEN s.sog IS NULL THEN 'unknown'
           WHEN s.sog < 0.5 THEN 'stopped'
           ELSE 'under_way'
       END AS movement,
       CASE
           WHEN v.shiptype IS NULL OR v.shiptype = 0 THEN 'unknown'
           WHEN v.shiptype BETWEEN 70 AND 79 THEN 'cargo'
           WHEN v.shiptype BETWEEN 80 AND 89 THEN 'tanker'
           WHEN v.shiptype BETWEEN 60 AND 69 THEN 'passenger'
           WHEN v.shiptype BETWEEN 40 AND 49 THEN 'hsc'
           WHEN v.shiptype = 30 THEN 'fishing'
           WHEN v.shiptype IN (31, 32, 52) THEN 'tug'
           WHEN v.shiptype = 50 THEN 'pilot'
           WHEN v.shiptype = 51 THEN 'sar'
           WHEN v.shiptype IN (36, 37) THEN 'pleasure'
           ELSE 'other'
       END AS type_group,
       v.destination,
       s.event_time AS last_report
FROM vessel_state s
LEFT JOIN vessels v ON v.mmsi = s.mmsi
WHERE $__timeFilter(s.event_time)
ORDER BY s.mmsi
LIMIT 20000
