-- Static data merged per vessel (the sink coalesces a batch to one row per
-- MMSI first). A newer report fills the fields it has and keeps the others;
-- an older one (a replay, a late part) only fills blanks. So nothing is ever
-- blanked, and replaying any mix of reports converges on the same row.
INSERT INTO vessels AS v (mmsi, last_report, imo, callsign, shipname, shiptype,
                          to_bow, to_stern, to_port, to_starboard, draught, destination, eta,
                          eni, inland_ship_type, hazard, loaded, length_m, beam_m)
SELECT mmsi, last_report, imo, callsign, shipname, shiptype,
       to_bow, to_stern, to_port, to_starboard, draught, destination, eta,
       eni, inland_ship_type, hazard, loaded, length_m, beam_m
FROM stage_vessels
ON CONFLICT (mmsi) DO UPDATE SET
    imo          = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.imo, v.imo) ELSE coalesce(v.imo, EXCLUDED.imo) END,
    callsign     = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.callsign, v.callsign) ELSE coalesce(v.callsign, EXCLUDED.callsign) END,
    shipname     = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.shipname, v.shipname) ELSE coalesce(v.shipname, EXCLUDED.shipname) END,
    shiptype     = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.shiptype, v.shiptype) ELSE coalesce(v.shiptype, EXCLUDED.shiptype) END,
    to_bow       = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.to_bow, v.to_bow) ELSE coalesce(v.to_bow, EXCLUDED.to_bow) END,
    to_stern     = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.to_stern, v.to_stern) ELSE coalesce(v.to_stern, EXCLUDED.to_stern) END,
    to_port      = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.to_port, v.to_port) ELSE coalesce(v.to_port, EXCLUDED.to_port) END,
    to_starboard = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.to_starboard, v.to_starboard) ELSE coalesce(v.to_starboard, EXCLUDED.to_starboard) END,
    draught      = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.draught, v.draught) ELSE coalesce(v.draught, EXCLUDED.draught) END,
    destination  = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.destination, v.destination) ELSE coalesce(v.destination, EXCLUDED.destination) END,
    eta          = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.eta, v.eta) ELSE coalesce(v.eta, EXCLUDED.eta) END,
    eni              = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.eni, v.eni) ELSE coalesce(v.eni, EXCLUDED.eni) END,
    inland_ship_type = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.inland_ship_type, v.inland_ship_type) ELSE coalesce(v.inland_ship_type, EXCLUDED.inland_ship_type) END,
    hazard           = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.hazard, v.hazard) ELSE coalesce(v.hazard, EXCLUDED.hazard) END,
    loaded           = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.loaded, v.loaded) ELSE coalesce(v.loaded, EXCLUDED.loaded) END,
    length_m         = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.length_m, v.length_m) ELSE coalesce(v.length_m, EXCLUDED.length_m) END,
    beam_m           = CASE WHEN EXCLUDED.last_report >= v.last_report THEN coalesce(EXCLUDED.beam_m, v.beam_m) ELSE coalesce(v.beam_m, EXCLUDED.beam_m) END,
    last_report  = greatest(v.last_report, EXCLUDED.last_report),
    updated_at   = now()
