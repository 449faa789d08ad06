//! What the API derives from store rows, the same whichever store answered:
//! a vessel's zone, type group and movement, a zone's congestion (level by
//! `porttrack_processors::merge` and the configured thresholds), and the
//! port geography as GeoJSON.

use std::collections::HashMap;

use porttrack_processors::stats::nearest_rank;
use porttrack_processors::{CongestionThresholds, Geography, GeographyError, ZoneKind, ZonePartial, merge};

use crate::model::{CallRef, VesselProps, ZoneCongestion};
use crate::store::VesselRow;

/// Below this speed (knots) a vessel is not under way (the processors'
/// default `stop_speed_kn`).
const STOPPED_BELOW_KN: f32 = 0.5;

/// The port geography the server is configured with, plus what the API
/// needs beside the processors' [`Geography`]: each zone's GeoJSON geometry
/// and which zone is "the" zone of a point.
#[derive(Debug)]
pub struct Zoning {
    geography: Geography,
    geometry: HashMap<String, serde_json::Value>,
    /// The zones as a FeatureCollection with only `name` and `kind`.
    layer: serde_json::Value,
}

/// The smaller the rank, the more specific the zone: a vessel at a berth
/// inside a basin inside the port limits is "at the berth".
fn specificity(kind: ZoneKind) -> u8 {
    match kind {
        ZoneKind::Berth => 0,
        ZoneKind::Anchorage => 1,
        ZoneKind::Restricted => 2,
        ZoneKind::ApproachChannel => 3,
        ZoneKind::Basin => 4,
        ZoneKind::PortLimits => 5,
        _ => 6,
    }
}

impl Zoning {
    /// From the port's GeoJSON (validated by [`Geography::from_geojson`]).
    pub fn from_geojson(text: &str) -> Result<Zoning, GeographyError> {
        let geography = Geography::from_geojson(text)?;
        // Geography accepted it, so it is a FeatureCollection.
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let mut geometry = HashMap::new();
        let mut features = Vec::new();
        for f in value.get("features").and_then(|f| f.as_array()).into_iter().flatten() {
            let Some(name) = f.pointer("/properties/name").and_then(|n| n.as_str()) else { continue };
            let geom = f.get("geometry").cloned().unwrap_or_default();
            features.push(serde_json::json!({
                "type": "Feature",
                "id": name,
                "geometry": geom,
                "properties": {"name": name, "kind": f.pointer("/properties/kind").cloned().unwrap_or_default()},
            }));
            geometry.insert(name.to_owned(), geom);
        }
        let layer = serde_json::json!({"type": "FeatureCollection", "features": features});
        Ok(Zoning { geography, geometry, layer })
    }

    /// The processors' geography.
    pub fn geography(&self) -> &Geography {
        &self.geography
    }

    /// A zone's GeoJSON geometry.
    pub fn geometry(&self, name: &str) -> serde_json::Value {
        self.geometry.get(name).cloned().unwrap_or_default()
    }

    /// The zones layer (`/api/v1/geography`).
    pub fn layer(&self) -> &serde_json::Value {
        &self.layer
    }

    /// The most specific zone containing the point: (name, kind).
    pub fn zone_of(&self, lat: f64, lon: f64) -> Option<(&str, ZoneKind)> {
        self.geography
            .locate(lat, lon)
            .iter()
            .map(|id| self.geography.zone(id))
            .min_by_key(|z| (specificity(z.kind()), z.name().to_owned()))
            .map(|z| (z.name(), z.kind()))
    }
}

/// The AIS ship-type code's group (ITU-R M.1371 table 53).
pub fn type_group(ship_type: Option<u8>) -> &'static str {
    match ship_type {
        None | Some(0) => "unknown",
        Some(30) => "fishing",
        Some(31 | 32 | 52) => "tug",
        Some(50) => "pilot",
        Some(51) => "sar",
        Some(36 | 37) => "pleasure",
        Some(40..=49) => "hsc",
        Some(60..=69) => "passenger",
        Some(70..=79) => "cargo",
        Some(80..=89) => "tanker",
        Some(_) => "other",
    }
}

/// Movement from speed, the zone and the open call's phase. Like the
/// processors, never from `nav_status` (often stale): stopped in a berth or
/// on a berthed call is moored, stopped in an anchorage or on an anchored
/// call is anchored.
pub fn movement(sog: Option<f32>, zone: Option<ZoneKind>, phase: Option<&str>) -> &'static str {
    let Some(sog) = sog else { return "unknown" };
    if sog >= STOPPED_BELOW_KN {
        return "under_way";
    }
    match (zone, phase) {
        (Some(ZoneKind::Berth), _) | (_, Some("berthed")) => "moored",
        (Some(ZoneKind::Anchorage), _) | (_, Some("anchored")) => "anchored",
        _ => "stopped",
    }
}

/// A row as the API shows it.
pub fn vessel_props(row: VesselRow, zoning: &Zoning) -> VesselProps {
    let zone = zoning.zone_of(row.lat, row.lon);
    let phase = row.call.as_ref().map(|(_, p)| p.as_str());
    let movement = movement(row.sog, zone.map(|z| z.1), phase);
    VesselProps {
        mmsi: row.mmsi,
        type_group: type_group(row.ship_type).to_owned(),
        movement: movement.to_owned(),
        zone: zone.map(|z| z.0.to_owned()),
        zone_kind: zone.map(|z| z.1.as_str().to_owned()),
        port_call: row.call.map(|(id, phase)| CallRef { id, phase }),
        name: row.name,
        callsign: row.callsign,
        imo: row.imo,
        ship_type: row.ship_type,
        length_m: row.length_m,
        beam_m: row.beam_m,
        draught_m: row.draught_m,
        destination: row.destination,
        eta: row.eta,
        lat: row.lat,
        lon: row.lon,
        sog_kn: row.sog,
        cog_deg: row.cog,
        heading_deg: row.heading.filter(|h| *h < 360),
        nav_status: row.nav_status,
        event_time: row.event_time,
    }
}

/// Congestion per zone name, from the latest partials: merged by
/// `porttrack_processors::merge` (sums, nearest-rank p90, the level by
/// `thresholds`), plus the median current wait.
pub fn congestion(
    partials: &[ZonePartial],
    thresholds: &CongestionThresholds,
) -> HashMap<String, ZoneCongestion> {
    let mut waits: HashMap<&str, Vec<i64>> = HashMap::new();
    for p in partials {
        waits.entry(p.zone.as_str()).or_default().extend(p.waiting_now_s.iter().copied());
    }
    for w in waits.values_mut() {
        w.sort_unstable();
    }
    merge(partials, thresholds)
        .into_iter()
        .map(|s| {
            let p50 =
                waits.get(s.zone.as_str()).filter(|w| !w.is_empty()).map_or(0, |w| nearest_rank(w, 0.5));
            let c = ZoneCongestion {
                level: s.congestion.as_str().to_owned(),
                vessels_present: s.vessels_present,
                queue_length: s.queue_length,
                waiting_now_count: s.waiting_now.count,
                waiting_p50_s: p50,
                waiting_p90_s: s.waiting_now.p90_s,
                berth_occupancy: s.berth_occupancy,
                moored_vessels: s.moored_vessels,
                arrivals_per_hour: s.arrivals_per_hour,
                departures_per_hour: s.departures_per_hour,
                snapshot_time: s.at,
            };
            (s.zone, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_comes_from_speed_zone_and_call_never_nav_status() {
        assert_eq!(movement(Some(12.0), Some(ZoneKind::Berth), Some("berthed")), "under_way");
        assert_eq!(movement(Some(0.1), Some(ZoneKind::Berth), None), "moored");
        assert_eq!(movement(Some(0.1), None, Some("anchored")), "anchored");
        assert_eq!(movement(Some(0.1), Some(ZoneKind::Basin), None), "stopped");
        assert_eq!(movement(None, Some(ZoneKind::Berth), None), "unknown");
    }

    #[test]
    fn type_groups_follow_the_ais_table() {
        assert_eq!(type_group(Some(71)), "cargo");
        assert_eq!(type_group(Some(84)), "tanker");
        assert_eq!(type_group(Some(52)), "tug");
        assert_eq!(type_group(Some(99)), "other");
        assert_eq!(type_group(None), "unknown");
    }

    #[test]
    fn the_most_specific_zone_wins() {
        let zoning = Zoning::from_geojson(porttrack_processors::ROTTERDAM_GEOJSON).unwrap();
        // Botlek berth (as in the processors' merge example), inside the port limits.
        let (name, kind) = zoning.zone_of(51.885, 4.28).unwrap();
        assert_eq!((name, kind), ("Botlek", ZoneKind::Berth));
        assert!(zoning.zone_of(10.0, 10.0).is_none());
    }
}
