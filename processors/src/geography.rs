//! The port's geography: named zones loaded from GeoJSON, and fast
//! point-in-zone lookup.
//!
//! A [`Geography`] is a bounded, ordered set of [`Zone`]s. Each zone has a
//! [`ZoneKind`] that gives it a role in the processors (port limits open and
//! close port calls, anchorages hold the queue, berths hold moored vessels,
//! approach channels carry a speed limit, restricted zones forbid dangerous
//! goods). Zones may overlap: a berth lies inside a basin inside the port
//! limits, and [`Geography::locate`] returns every zone containing a point as
//! a [`ZoneSet`].
//!
//! Lookup is two-phase: an R*-tree over the zones' bounding boxes ([`rstar`])
//! narrows the candidates to the few boxes containing the point, then an exact
//! point-in-polygon test ([`geo`]) decides. Points on a zone's boundary are
//! inside it.
//!
//! Zone names are used as metric labels and as keys in Postgres, so they come
//! only from configuration, never from events, and there are at most
//! [`ZoneSet::CAPACITY`] of them.
//!
//! ```
//! use porttrack_processors::{Geography, ZoneKind};
//!
//! let geo = Geography::rotterdam();
//! let at_berth = geo.locate(51.958, 4.005);
//! let names: Vec<&str> = at_berth.iter().map(|z| geo.zone(z).name()).collect();
//! assert_eq!(names, ["Port of Rotterdam", "Yangtzehaven", "Maasvlakte II"]);
//! assert_eq!(geo.zone(geo.id("Maasvlakte II").unwrap()).kind(), ZoneKind::Berth);
//! assert!(geo.locate(52.05, 3.30).is_empty()); // open sea
//! ```

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::str::FromStr;

use geo::{Centroid, Intersects};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use serde::{Deserialize, Serialize};

/// The default geography: an approximation of the Port of Rotterdam (port
/// limits, Eurogeul and Maasgeul, the Maas North and Maas Centre anchorages,
/// basins, four terminals' berths and a restricted reach of the Nieuwe Maas).
pub const ROTTERDAM_GEOJSON: &str = include_str!("../ports/rotterdam.geojson");

/// The role a zone plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ZoneKind {
    /// The port's limits: entering opens a port call, leaving closes it.
    PortLimits,
    /// A fairway into the port; may carry a speed limit.
    ApproachChannel,
    /// Where vessels wait at anchor for a berth.
    Anchorage,
    /// A harbour basin.
    Basin,
    /// A berth (quay); has a length for occupancy.
    Berth,
    /// A zone vessels with dangerous goods must not enter.
    Restricted,
}

impl ZoneKind {
    /// Every kind.
    pub const ALL: [ZoneKind; 6] = [
        ZoneKind::PortLimits,
        ZoneKind::ApproachChannel,
        ZoneKind::Anchorage,
        ZoneKind::Basin,
        ZoneKind::Berth,
        ZoneKind::Restricted,
    ];

    /// The name used in GeoJSON `kind` properties and as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::PortLimits => "port_limits",
            ZoneKind::ApproachChannel => "approach_channel",
            ZoneKind::Anchorage => "anchorage",
            ZoneKind::Basin => "basin",
            ZoneKind::Berth => "berth",
            ZoneKind::Restricted => "restricted",
        }
    }
}

impl FromStr for ZoneKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        ZoneKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

impl fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A zone's index in its [`Geography`] (the order of the GeoJSON features).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ZoneId(pub u8);

impl ZoneId {
    /// The index as a `usize`, for slices indexed by zone.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A set of zones, as a 128-bit mask: membership tests, unions and
/// differences are single instructions, which keeps the per-report hot path
/// free of allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ZoneSet(pub u128);

impl ZoneSet {
    /// How many zones a geography may have.
    pub const CAPACITY: usize = 128;
    /// No zone.
    pub const EMPTY: ZoneSet = ZoneSet(0);

    /// The set holding only `zone`.
    pub fn single(zone: ZoneId) -> ZoneSet {
        ZoneSet(1 << zone.0)
    }
    /// Whether `zone` is in the set.
    pub fn contains(self, zone: ZoneId) -> bool {
        self.0 & (1 << zone.0) != 0
    }
    /// Adds `zone`.
    pub fn insert(&mut self, zone: ZoneId) {
        self.0 |= 1 << zone.0;
    }
    /// Removes `zone`.
    pub fn remove(&mut self, zone: ZoneId) {
        self.0 &= !(1 << zone.0);
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// How many zones are in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// Zones in both sets.
    #[must_use]
    pub fn and(self, other: ZoneSet) -> ZoneSet {
        ZoneSet(self.0 & other.0)
    }
    /// Zones in `self` but not in `other`.
    #[must_use]
    pub fn minus(self, other: ZoneSet) -> ZoneSet {
        ZoneSet(self.0 & !other.0)
    }
    /// Whether the sets share a zone.
    pub fn intersects(self, other: ZoneSet) -> bool {
        self.0 & other.0 != 0
    }
    /// The zones in ascending id order.
    pub fn iter(self) -> impl Iterator<Item = ZoneId> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros();
            bits &= bits - 1;
            // i < 128, so it fits in a u8.
            Some(ZoneId(i as u8))
        })
    }
    /// The first zone in id order.
    pub fn first(self) -> Option<ZoneId> {
        self.iter().next()
    }
}

impl fmt::Debug for ZoneSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|z| z.0)).finish()
    }
}

/// One zone of a [`Geography`].
#[derive(Debug, Clone)]
pub struct Zone {
    id: ZoneId,
    name: String,
    kind: ZoneKind,
    length_m: Option<u32>,
    speed_limit_kn: Option<f32>,
    shape: MultiPolygon<f64>,
    centroid: (f64, f64),
}

impl Zone {
    /// The zone's id.
    pub fn id(&self) -> ZoneId {
        self.id
    }
    /// Its unique name (a metric label).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its role.
    pub fn kind(&self) -> ZoneKind {
        self.kind
    }
    /// Quay length in metres (berths only).
    pub fn length_m(&self) -> Option<u32> {
        self.length_m
    }
    /// Speed limit in knots, if the zone has one.
    pub fn speed_limit_kn(&self) -> Option<f32> {
        self.speed_limit_kn
    }
    /// The zone's outline (longitude = x, latitude = y).
    pub fn shape(&self) -> &MultiPolygon<f64> {
        &self.shape
    }
    /// The centroid, `(lat, lon)`.
    pub fn centroid(&self) -> (f64, f64) {
        self.centroid
    }
    /// Whether the point lies inside the zone or on its boundary.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        self.shape.intersects(&Point::new(lon, lat))
    }
}

/// Why a geography was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeographyError {
    /// Not a GeoJSON FeatureCollection.
    #[error("not a GeoJSON FeatureCollection: {0}")]
    Parse(#[from] geojson::Error),
    /// A feature lacks a required property, or has one of the wrong type.
    #[error("feature #{feature} ({name}): property {property:?} {problem}")]
    Property {
        /// Index of the feature.
        feature: usize,
        /// Its name, or `"?"` when the name itself is at fault.
        name: String,
        /// The property.
        property: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// `kind` is not one of the known kinds.
    #[error(
        "zone {name:?}: unknown kind {kind:?} (expected one of port_limits, approach_channel, anchorage, basin, berth, restricted)"
    )]
    UnknownKind {
        /// The zone.
        name: String,
        /// The kind found.
        kind: String,
    },
    /// Two features share a name.
    #[error("zone name {0:?} is used twice")]
    DuplicateName(String),
    /// A berth has no `length_m`.
    #[error("berth {0:?} has no length_m")]
    BerthWithoutLength(String),
    /// A feature has no geometry or one that is not a (multi)polygon.
    #[error("zone {name:?}: geometry must be Polygon or MultiPolygon, found {found}")]
    UnsupportedGeometry {
        /// The zone.
        name: String,
        /// What was found.
        found: String,
    },
    /// A ring's last position differs from its first.
    #[error("zone {0:?}: a ring is not closed (last position must repeat the first)")]
    UnclosedRing(String),
    /// A ring with fewer than four positions or no area.
    #[error("zone {0:?}: a ring is degenerate (fewer than 4 positions or no area)")]
    DegenerateRing(String),
    /// A coordinate outside WGS 84 ranges, not finite, or not two-dimensional.
    #[error("zone {name:?}: coordinate {position:?} is not a valid [lon, lat]")]
    CoordinateOutOfRange {
        /// The zone.
        name: String,
        /// The offending position.
        position: Vec<f64>,
    },
    /// No zone of kind `port_limits`.
    #[error("the geography has no port_limits zone")]
    MissingPortLimits,
    /// More zones than a [`ZoneSet`] holds.
    #[error("{0} zones; at most {max} are supported", max = ZoneSet::CAPACITY)]
    TooManyZones(usize),
}

/// The port's zones with a spatial index. Immutable once loaded; share it
/// behind an `Arc` or a reference.
#[derive(Debug)]
pub struct Geography {
    zones: Vec<Zone>,
    by_name: HashMap<String, ZoneId>,
    index: RTree<GeomWithData<Rectangle<[f64; 2]>, ZoneId>>,
    masks: [ZoneSet; ZoneKind::ALL.len()],
    speed_limited: ZoneSet,
    fingerprint: u64,
}

impl Geography {
    /// Loads and validates a GeoJSON FeatureCollection.
    ///
    /// Every feature needs `properties.name` (unique, non-empty) and
    /// `properties.kind`; berths need `length_m` (metres, > 0); any zone may
    /// have `speed_limit_kn` (> 0). Other properties are ignored. Geometries
    /// are Polygon or MultiPolygon with closed rings of at least four
    /// positions, a non-zero area and `[lon, lat]` in WGS 84 ranges. At least
    /// one zone must be `port_limits`.
    pub fn from_geojson(text: &str) -> Result<Geography, GeographyError> {
        let collection = geojson::FeatureCollection::from_str(text)?;
        if collection.features.len() > ZoneSet::CAPACITY {
            return Err(GeographyError::TooManyZones(collection.features.len()));
        }
        let mut zones = Vec::with_capacity(collection.features.len());
        let mut by_name = HashMap::new();
        for (i, feature) in collection.features.iter().enumerate() {
            let zone = parse_feature(i, feature)?;
            if by_name.insert(zone.name.clone(), zone.id).is_some() {
                return Err(GeographyError::DuplicateName(zone.name));
            }
            zones.push(zone);
        }
        if !zones.iter().any(|z| z.kind == ZoneKind::PortLimits) {
            return Err(GeographyError::MissingPortLimits);
        }
        let mut masks = [ZoneSet::EMPTY; ZoneKind::ALL.len()];
        let mut speed_limited = ZoneSet::EMPTY;
        let mut boxes = Vec::with_capacity(zones.len());
        let mut fingerprint = Fnv::new();
        for zone in &zones {
            masks[kind_index(zone.kind)].insert(zone.id);
            if zone.speed_limit_kn.is_some() {
                speed_limited.insert(zone.id);
            }
            let (min, max) = bounds(&zone.shape);
            boxes.push(GeomWithData::new(Rectangle::from_corners(min, max), zone.id));
            fingerprint.write(zone.name.as_bytes());
            fingerprint.write(zone.kind.as_str().as_bytes());
            fingerprint.write(&zone.length_m.unwrap_or(0).to_le_bytes());
            fingerprint.write(&zone.speed_limit_kn.unwrap_or(0.0).to_le_bytes());
            for polygon in &zone.shape {
                for c in
                    polygon.exterior().coords().chain(polygon.interiors().iter().flat_map(|r| r.coords()))
                {
                    fingerprint.write(&c.x.to_le_bytes());
                    fingerprint.write(&c.y.to_le_bytes());
                }
            }
        }
        Ok(Geography {
            zones,
            by_name,
            index: RTree::bulk_load(boxes),
            masks,
            speed_limited,
            fingerprint: fingerprint.finish(),
        })
    }

    /// The built-in Rotterdam geography ([`ROTTERDAM_GEOJSON`]).
    pub fn rotterdam() -> Geography {
        match Geography::from_geojson(ROTTERDAM_GEOJSON) {
            Ok(g) => g,
            // The file is embedded and a unit test loads it, so this is a build defect.
            Err(e) => panic!("embedded rotterdam.geojson is invalid: {e}"),
        }
    }

    /// Every zone containing the point (boundary included).
    pub fn locate(&self, lat: f64, lon: f64) -> ZoneSet {
        let point = Coord { x: lon, y: lat };
        let mut set = ZoneSet::EMPTY;
        // Internal iteration (`_int`): the iterator form keeps its own stack
        // of nodes, and moving it around was a `memmove` on every call (2.5%
        // of the `json → null` run's samples).
        let _ = self.index.locate_all_at_point_int(&[lon, lat], |candidate| {
            let zone = &self.zones[candidate.data.index()];
            // Polygon by polygon, not `MultiPolygon::intersects`: that one
            // first computes the shape's bounding box from every vertex, on
            // every call, to rule out what the R-tree has already ruled out
            // (5% of the pipeline stage's samples; `locate` 188 → 117 ns).
            if zone.shape.iter().any(|polygon| polygon.intersects(&point)) {
                set.insert(zone.id);
            }
            ControlFlow::<()>::Continue(())
        });
        set
    }

    /// The zone with this id.
    ///
    /// # Panics
    ///
    /// If the id does not come from this geography.
    pub fn zone(&self, id: ZoneId) -> &Zone {
        &self.zones[id.index()]
    }

    /// The zone's name (shorthand for `zone(id).name()`).
    pub fn name(&self, id: ZoneId) -> &str {
        self.zone(id).name()
    }

    /// The id of the zone called `name`.
    pub fn id(&self, name: &str) -> Option<ZoneId> {
        self.by_name.get(name).copied()
    }

    /// All zones, in id order.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// How many zones there are.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Always false: a valid geography has port limits.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The zones of one kind.
    pub fn of_kind(&self, kind: ZoneKind) -> ZoneSet {
        self.masks[kind_index(kind)]
    }

    /// The zones with a speed limit.
    pub fn speed_limited(&self) -> ZoneSet {
        self.speed_limited
    }

    /// A stable 64-bit hash of the zones (names, kinds, properties and
    /// coordinates, in order). Exported partition state records it, so state
    /// is never restored against a different geography, where zone ids would
    /// mean other zones.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}

fn kind_index(kind: ZoneKind) -> usize {
    kind as usize
}

fn bounds(shape: &MultiPolygon<f64>) -> ([f64; 2], [f64; 2]) {
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for c in shape.iter().flat_map(|p| p.exterior().coords()) {
        min = [min[0].min(c.x), min[1].min(c.y)];
        max = [max[0].max(c.x), max[1].max(c.y)];
    }
    (min, max)
}

fn parse_feature(i: usize, feature: &geojson::Feature) -> Result<Zone, GeographyError> {
    let property = |name: &str, property: &'static str, problem: &'static str| GeographyError::Property {
        feature: i,
        name: name.to_owned(),
        property,
        problem,
    };
    let name = match feature.property("name") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() && s.len() <= 64 => s.clone(),
        Some(_) => return Err(property("?", "name", "must be a non-empty string of at most 64 bytes")),
        None => return Err(property("?", "name", "is missing")),
    };
    let kind = match feature.property("kind") {
        Some(serde_json::Value::String(s)) => ZoneKind::from_str(s)
            .map_err(|()| GeographyError::UnknownKind { name: name.clone(), kind: s.clone() })?,
        Some(_) => return Err(property(&name, "kind", "must be a string")),
        None => return Err(property(&name, "kind", "is missing")),
    };
    let length_m = match feature.property("length_m") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => match v.as_u64().and_then(|l| u32::try_from(l).ok()) {
            Some(l) if l > 0 => Some(l),
            _ => return Err(property(&name, "length_m", "must be a positive whole number of metres")),
        },
    };
    if kind == ZoneKind::Berth && length_m.is_none() {
        return Err(GeographyError::BerthWithoutLength(name));
    }
    let speed_limit_kn = match feature.property("speed_limit_kn") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(s) if s > 0.0 && s <= 100.0 => Some(s as f32),
            _ => return Err(property(&name, "speed_limit_kn", "must be a number of knots in (0, 100]")),
        },
    };
    let polygons: Vec<&geojson::PolygonType> = match feature.geometry.as_ref().map(|g| &g.value) {
        Some(geojson::GeometryValue::Polygon { coordinates }) => vec![coordinates],
        Some(geojson::GeometryValue::MultiPolygon { coordinates }) => coordinates.iter().collect(),
        Some(other) => {
            return Err(GeographyError::UnsupportedGeometry { name, found: other.type_name().to_owned() });
        }
        None => return Err(GeographyError::UnsupportedGeometry { name, found: "no geometry".to_owned() }),
    };
    if polygons.is_empty() || polygons.iter().any(|p| p.is_empty()) {
        return Err(GeographyError::DegenerateRing(name));
    }
    let mut shape = Vec::with_capacity(polygons.len());
    for rings in polygons {
        let mut converted = Vec::with_capacity(rings.len());
        for ring in rings {
            converted.push(ring_to_linestring(&name, ring)?);
        }
        let exterior = converted.remove(0);
        shape.push(Polygon::new(exterior, converted));
    }
    let shape = MultiPolygon::new(shape);
    let centroid = shape.centroid().map_or((0.0, 0.0), |c| (c.y(), c.x()));
    // i < CAPACITY (checked by the caller), so it fits in a u8.
    Ok(Zone { id: ZoneId(i as u8), name, kind, length_m, speed_limit_kn, shape, centroid })
}

fn ring_to_linestring(name: &str, ring: &[geojson::Position]) -> Result<LineString<f64>, GeographyError> {
    let mut coords = Vec::with_capacity(ring.len());
    for p in ring {
        let s = p.as_slice();
        let valid = s.len() == 2
            && s.iter().all(|v| v.is_finite())
            && (-180.0..=180.0).contains(&s[0])
            && (-90.0..=90.0).contains(&s[1]);
        if !valid {
            return Err(GeographyError::CoordinateOutOfRange { name: name.to_owned(), position: s.to_vec() });
        }
        coords.push(Coord { x: s[0], y: s[1] });
    }
    if coords.len() < 4 {
        return Err(GeographyError::DegenerateRing(name.to_owned()));
    }
    if coords.first() != coords.last() {
        return Err(GeographyError::UnclosedRing(name.to_owned()));
    }
    // Shoelace: twice the signed area. Zero means all points on a line.
    let doubled_area: f64 = coords.windows(2).map(|w| w[0].x * w[1].y - w[1].x * w[0].y).sum();
    if doubled_area.abs() < 1e-12 {
        return Err(GeographyError::DegenerateRing(name.to_owned()));
    }
    Ok(LineString::new(coords))
}

/// 64-bit FNV-1a: tiny, and stable across Rust releases (unlike `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Great-circle distance in nautical miles (haversine, mean Earth radius).
pub fn distance_nm(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_NM: f64 = 3_440.065;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_NM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    fn feature(props: &str, coords: &str) -> String {
        format!(
            r#"{{"type":"Feature","properties":{{{props}}},"geometry":{{"type":"Polygon","coordinates":[{coords}]}}}}"#
        )
    }

    const SQUARE: &str = "[[4.0,51.0],[4.1,51.0],[4.1,51.1],[4.0,51.1],[4.0,51.0]]";
    const LIMITS: &str = r#""name":"limits","kind":"port_limits""#;

    fn load(features: &[String]) -> Result<Geography, GeographyError> {
        Geography::from_geojson(&collection(&features.join(",")))
    }

    #[test]
    fn rotterdam_loads_and_holds_the_simulated_waypoints() {
        let geo = Geography::rotterdam();
        let names = |lat, lon| -> Vec<String> {
            geo.locate(lat, lon).iter().map(|z| geo.name(z).to_owned()).collect()
        };
        for sea in [(52.05, 3.30), (51.92, 3.35), (52.15, 3.45), (51.85, 3.50)] {
            assert!(names(sea.0, sea.1).is_empty(), "{sea:?}");
        }
        assert!(names(52.08, 3.72).contains(&"Maas North Anchorage".to_owned()));
        assert!(names(51.93, 3.68).contains(&"Maas Centre Anchorage".to_owned()));
        assert!(names(51.995, 3.85).contains(&"Maasgeul".to_owned()));
        assert!(names(51.985, 4.045).contains(&"Maasgeul".to_owned()));
        for (berth, at) in [
            ("Maasvlakte II", (51.958, 4.005)),
            ("Europoort", (51.950, 4.14)),
            ("Botlek", (51.885, 4.28)),
            ("Waalhaven", (51.893, 4.43)),
        ] {
            let here = names(at.0, at.1);
            assert!(here.contains(&berth.to_owned()), "{berth}: {here:?}");
            assert!(here.contains(&"Port of Rotterdam".to_owned()), "{berth}: {here:?}");
        }
        // Every route waypoint is inside the port limits.
        for p in [(51.975, 4.02), (51.965, 4.10), (51.962, 4.13), (51.905, 4.22), (51.900, 4.30)] {
            assert!(names(p.0, p.1).contains(&"Port of Rotterdam".to_owned()), "{p:?}");
        }
        // Ships placed within 1.5 nm (in latitude and longitude) of an anchorage centre are in it.
        for (c, name) in [((52.08, 3.72), "Maas North Anchorage"), ((51.93, 3.68), "Maas Centre Anchorage")] {
            let dlat = 1.5 / 60.0;
            let dlon = dlat / f64::cos(f64::to_radians(c.0));
            for (a, b) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                assert!(names(c.0 + a * dlat, c.1 + b * dlon).contains(&name.to_owned()));
            }
        }
        assert_eq!(geo.zone(geo.id("Maasgeul").unwrap()).speed_limit_kn(), Some(16.0));
        assert_eq!(geo.zone(geo.id("Botlek").unwrap()).length_m(), Some(900));
    }

    #[test]
    fn boundary_points_are_inside() {
        let geo = load(&[feature(LIMITS, SQUARE)]).unwrap();
        assert_eq!(geo.locate(51.0, 4.05).len(), 1);
        assert_eq!(geo.locate(51.05, 4.0).len(), 1);
        assert!(geo.locate(50.999, 4.05).is_empty());
    }

    #[test]
    fn every_defect_has_its_error() {
        use GeographyError as E;
        type Case = (Vec<String>, fn(&GeographyError) -> bool);
        let cases: Vec<Case> = vec![
            (vec![], |e| matches!(e, E::MissingPortLimits)),
            (vec![feature(r#""name":"a","kind":"anchorage""#, SQUARE)], |e| {
                matches!(e, E::MissingPortLimits)
            }),
            (vec![feature(r#""name":"a","kind":"harbour""#, SQUARE)], |e| matches!(e, E::UnknownKind { .. })),
            (vec![feature(r#""kind":"basin""#, SQUARE)], |e| {
                matches!(e, E::Property { property: "name", .. })
            }),
            (vec![feature(r#""name":"a""#, SQUARE)], |e| matches!(e, E::Property { property: "kind", .. })),
            (vec![feature(LIMITS, SQUARE), feature(LIMITS, SQUARE)], |e| matches!(e, E::DuplicateName(_))),
            (vec![feature(r#""name":"b","kind":"berth""#, SQUARE)], |e| {
                matches!(e, E::BerthWithoutLength(_))
            }),
            (vec![feature(r#""name":"b","kind":"berth","length_m":-3"#, SQUARE)], |e| {
                matches!(e, E::Property { property: "length_m", .. })
            }),
            (vec![feature(r#""name":"c","kind":"basin","speed_limit_kn":"fast""#, SQUARE)], |e| {
                matches!(e, E::Property { property: "speed_limit_kn", .. })
            }),
            (vec![feature(LIMITS, "[[4.0,51.0],[4.1,51.0],[4.1,51.1],[4.0,51.1]]")], |e| {
                matches!(e, E::UnclosedRing(_))
            }),
            (vec![feature(LIMITS, "[[4.0,51.0],[4.1,51.0],[4.0,51.0]]")], |e| {
                matches!(e, E::DegenerateRing(_))
            }),
            (vec![feature(LIMITS, "[[4.0,51.0],[4.1,51.0],[4.2,51.0],[4.0,51.0]]")], |e| {
                matches!(e, E::DegenerateRing(_))
            }),
            (vec![feature(LIMITS, "[[4.0,51.0],[4.1,91.0],[4.1,51.1],[4.0,51.0]]")], |e| {
                matches!(e, E::CoordinateOutOfRange { .. })
            }),
            (
                vec![format!(
                    r#"{{"type":"Feature","properties":{{{LIMITS}}},"geometry":{{"type":"Point","coordinates":[4.0,51.0]}}}}"#
                )],
                |e| matches!(e, E::UnsupportedGeometry { .. }),
            ),
        ];
        for (features, expected) in cases {
            let err = load(&features).unwrap_err();
            assert!(expected(&err), "{features:?} gave {err}");
        }
        assert!(matches!(Geography::from_geojson("{}"), Err(GeographyError::Parse(_))));
    }

    #[test]
    fn multipolygons_and_fingerprints() {
        let multi = format!(
            r#"{{"type":"Feature","properties":{{{LIMITS}}},"geometry":{{"type":"MultiPolygon","coordinates":[[{SQUARE}],[[[5.0,51.0],[5.1,51.0],[5.1,51.1],[5.0,51.0]]]]}}}}"#
        );
        let geo = load(&[multi]).unwrap();
        assert_eq!(geo.locate(51.05, 4.05).len(), 1);
        assert_eq!(geo.locate(51.01, 5.08).len(), 1);
        assert!(geo.locate(51.09, 5.01).is_empty());
        let other = load(&[feature(LIMITS, SQUARE)]).unwrap();
        assert_ne!(geo.fingerprint(), other.fingerprint());
        assert_eq!(Geography::rotterdam().fingerprint(), Geography::rotterdam().fingerprint());
    }

    #[test]
    fn zone_sets() {
        let mut s = ZoneSet::EMPTY;
        s.insert(ZoneId(3));
        s.insert(ZoneId(127));
        s.insert(ZoneId(0));
        assert_eq!(s.iter().map(|z| z.0).collect::<Vec<_>>(), [0, 3, 127]);
        assert_eq!(s.len(), 3);
        s.remove(ZoneId(3));
        assert!(!s.contains(ZoneId(3)));
        assert_eq!(s.minus(ZoneSet::single(ZoneId(0))), ZoneSet::single(ZoneId(127)));
    }

    #[test]
    fn haversine() {
        // One minute of latitude is one nautical mile (to 0.5 %).
        assert!((distance_nm((52.0, 4.0), (52.0 + 1.0 / 60.0, 4.0)) - 1.0).abs() < 0.005);
        assert_eq!(distance_nm((52.0, 4.0), (52.0, 4.0)), 0.0);
    }
}
