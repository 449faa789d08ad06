//! The simulated port: an approximation of the Port of Rotterdam's approach,
//! anchorages, entrance and a few terminals. Coordinates are WGS 84 degrees
//! (lat, lon), accurate to a few hundred metres: good enough to exercise
//! zones and congestion, not for navigation.
//!
//! Where ships wait and berth comes from the same geography the processor
//! uses (`processors/ports/rotterdam.geojson`): anchorage spots are the
//! anchorage zones' centroids and each terminal's route ends at its berth
//! zone's centroid ([`places`]). The sea points, channel and inner-harbour
//! waypoints below only shape the tracks between them.

/// A point, `(lat, lon)` in degrees.
pub(crate) type LatLon = (f64, f64);

/// Where arrivals appear and departures leave: 20–30 nm offshore.
pub(crate) const SEA_POINTS: &[LatLon] = &[(52.05, 3.30), (51.92, 3.35), (52.15, 3.45), (51.85, 3.50)];

/// Anchorage centres (Maas North and Maas Centre/South). Waiting ships swing
/// around these within a few cables.
pub(crate) const ANCHORAGES: &[LatLon] = &[(52.08, 3.72), (51.93, 3.68)];

/// Start of the deep-water approach channel (Eurogeul / Maasgeul), where the pilot boards.
pub(crate) const CHANNEL_START: LatLon = (51.995, 3.85);

/// The harbour entrance (Maasmond).
pub(crate) const ENTRANCE: LatLon = (51.985, 4.045);

/// A terminal with the inner-harbour waypoints from the entrance to its berth.
#[derive(Debug)]
pub(crate) struct Terminal {
    pub(crate) route: &'static [LatLon],
}

/// The berth (zone name in `processors/ports/rotterdam.geojson`) of each of [`TERMINALS`].
pub(crate) const BERTHS: &[&str] = &["Maasvlakte II", "Europoort", "Botlek", "Waalhaven"];

/// Weather stations: `(id, zone reported for, position)`.
pub(crate) const STATIONS: &[(&str, Option<&str>, LatLon)] = &[
    ("hoek-van-holland", Some("Maasmond"), (51.978, 4.12)),
    ("maasvlakte", Some("Yangtzehaven"), (51.96, 4.0)),
    ("botlek", None, (51.885, 4.28)),
];

/// Terminals, with routes from [`ENTRANCE`] to the berth (last point).
pub(crate) const TERMINALS: &[Terminal] = &[
    Terminal { route: &[(51.975, 4.02), (51.958, 4.005)] },
    Terminal { route: &[(51.965, 4.10), (51.950, 4.14)] },
    Terminal { route: &[(51.962, 4.13), (51.905, 4.22), (51.885, 4.28)] },
    Terminal { route: &[(51.962, 4.13), (51.900, 4.30), (51.893, 4.43)] },
];

/// The anchorages and terminal routes, from the processor's geography.
#[derive(Debug)]
pub(crate) struct Places {
    /// Where ships anchor: the anchorage zones' centroids.
    pub(crate) anchorages: Vec<LatLon>,
    /// Per terminal, the waypoints from the entrance to the berth zone's centroid.
    pub(crate) routes: Vec<Vec<LatLon>>,
}

/// [`Places`] of the built-in geography, computed once.
pub(crate) fn places() -> &'static Places {
    static PLACES: std::sync::OnceLock<Places> = std::sync::OnceLock::new();
    PLACES.get_or_init(|| {
        use porttrack_processors::{Geography, ZoneKind};
        let geography = Geography::rotterdam();
        let mut anchorages: Vec<LatLon> = geography
            .zones()
            .iter()
            .filter(|z| z.kind() == ZoneKind::Anchorage)
            .map(porttrack_processors::Zone::centroid)
            .collect();
        if anchorages.is_empty() {
            anchorages = ANCHORAGES.to_vec();
        }
        let routes = TERMINALS
            .iter()
            .zip(BERTHS)
            .map(|(t, berth)| {
                let mut route = t.route.to_vec();
                if let Some(zone) = geography.id(berth).map(|id| geography.zone(id))
                    && let Some(last) = route.last_mut()
                {
                    *last = zone.centroid();
                }
                route
            })
            .collect();
        Places { anchorages, routes }
    })
}

/// The processor's built-in geography, loaded once.
fn geography() -> &'static porttrack_processors::Geography {
    static GEOGRAPHY: std::sync::OnceLock<porttrack_processors::Geography> = std::sync::OnceLock::new();
    GEOGRAPHY.get_or_init(porttrack_processors::Geography::rotterdam)
}

fn zones_of(p: LatLon, kinds: &[porttrack_processors::ZoneKind]) -> bool {
    let geo = geography();
    geo.locate(p.0, p.1).iter().any(|z| kinds.contains(&geo.zone(z).kind()))
}

/// Whether `p` is inside the port limits (the ground truth of arrival and departure).
pub(crate) fn in_port_limits(p: LatLon) -> bool {
    zones_of(p, &[porttrack_processors::ZoneKind::PortLimits])
}

/// Whether `p` is inside a charted anchorage.
pub(crate) fn in_anchorage(p: LatLon) -> bool {
    zones_of(p, &[porttrack_processors::ZoneKind::Anchorage])
}

/// Whether `p` is inside the port limits and in no other zone: where a ship
/// anchoring outside the anchorages drops its anchor.
pub(crate) fn open_water_in_port(p: LatLon) -> bool {
    let geo = geography();
    let zones = geo.locate(p.0, p.1);
    zones.len() == 1 && in_port_limits(p)
}

/// Nautical miles between two points (equirectangular; fine at port scale).
pub(crate) fn distance_nm(a: LatLon, b: LatLon) -> f64 {
    let mean_lat = ((a.0 + b.0) / 2.0).to_radians();
    let dy = (b.0 - a.0) * 60.0;
    let dx = (b.1 - a.1) * 60.0 * mean_lat.cos();
    (dx * dx + dy * dy).sqrt()
}

/// Initial course from `a` to `b`, degrees true in `[0, 360)`.
pub(crate) fn bearing_deg(a: LatLon, b: LatLon) -> f64 {
    let mean_lat = ((a.0 + b.0) / 2.0).to_radians();
    let dy = b.0 - a.0;
    let dx = (b.1 - a.1) * mean_lat.cos();
    dx.atan2(dy).to_degrees().rem_euclid(360.0)
}

/// The point `nm` nautical miles from `a` towards `b` (clamped at `b`).
pub(crate) fn advance(a: LatLon, b: LatLon, nm: f64) -> LatLon {
    let total = distance_nm(a, b);
    if total <= f64::EPSILON || nm >= total {
        return b;
    }
    let f = nm / total;
    (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_come_from_the_processors_geography() {
        use porttrack_processors::{Geography, ZoneKind};
        let geography = Geography::rotterdam();
        let p = places();
        assert_eq!(p.anchorages.len(), 2);
        for a in &p.anchorages {
            assert!(
                geography.locate(a.0, a.1).iter().any(|z| geography.zone(z).kind() == ZoneKind::Anchorage)
            );
        }
        for (route, berth) in p.routes.iter().zip(BERTHS) {
            let end = route.last().copied().unwrap();
            let inside: Vec<&str> =
                geography.locate(end.0, end.1).iter().map(|z| geography.name(z)).collect();
            assert!(inside.contains(berth), "{berth}: {inside:?}");
        }
    }

    #[test]
    fn geometry_is_sane() {
        // One minute of latitude is one nautical mile.
        assert!((distance_nm((52.0, 4.0), (52.0 + 1.0 / 60.0, 4.0)) - 1.0).abs() < 1e-9);
        assert!((bearing_deg((52.0, 4.0), (52.1, 4.0)) - 0.0).abs() < 1e-9);
        assert!((bearing_deg((52.0, 4.0), (52.0, 4.1)) - 90.0).abs() < 1e-9);
        assert!((bearing_deg((52.0, 4.0), (51.9, 4.0)) - 180.0).abs() < 1e-9);
        let mid = advance((52.0, 4.0), (52.2, 4.0), 6.0);
        assert!((mid.0 - 52.1).abs() < 1e-9);
        assert_eq!(advance((52.0, 4.0), (52.2, 4.0), 100.0), (52.2, 4.0));
    }
}
