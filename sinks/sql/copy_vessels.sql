COPY stage_vessels (mmsi, last_report, imo, callsign, shipname, shiptype,
                    to_bow, to_stern, to_port, to_starboard, draught, destination, eta)
FROM STDIN (FORMAT binary)
