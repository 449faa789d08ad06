COPY stage_vessels (mmsi, last_report, imo, callsign, shipname, shiptype,
                    to_bow, to_stern, to_port, to_starboard, draught, destination, eta,
                    eni, inland_ship_type, hazard, loaded, length_m, beam_m)
FROM STDIN (FORMAT binary)
