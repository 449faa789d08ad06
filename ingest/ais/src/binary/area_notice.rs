//! Area notices (IMO SN.1/Circ.289 §4): DAC 1 FID 22 (broadcast, type 8) and FID 23
//! (addressed, type 6).
//!
//! gpsd 3.22 does not decode them (`driver_ais.c` leaves both cases empty) and prints their
//! raw data, so `--gpsd-json` does the same; the typed decode is ours, for the pipeline and
//! the map. Layout: a 55-bit header (message linkage, notice type, start time, duration)
//! followed by 87-bit sub-areas, each starting with a 3-bit shape. Point-based shapes carry a
//! 1/1000-minute position and a scale factor (×1, ×10, ×100, ×1000 metres) applied to their
//! distances; polylines and polygons continue from the previous sub-area's point with up to
//! four (bearing, distance) legs; text sub-areas add 14 characters to the notice.

use super::{At, MINUTE_1000, PartialTime, RawPayload};

/// Bits of the header and of one sub-area.
const HEADER: usize = 55;
const SUB_AREA: usize = 87;

/// An area notice: a typed zone (caution, restriction, incident…) valid from `start` for
/// `duration` minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaNotice {
    /// Message linkage id (ties related notices and texts together).
    pub linkage: u32,
    /// Notice description, IMO289 table 4.2 (0 "Caution area: marine mammals habitat" …
    /// 127 "Undefined").
    pub notice_type: u8,
    /// Start of validity (UTC).
    pub start: PartialTime,
    /// Duration, minutes; `None` (262143) until cancelled.
    pub duration: Option<u32>,
    /// The sub-areas, in order (whole 87-bit sub-areas only; trailing padding is ignored).
    pub sub_areas: Vec<SubArea>,
    /// The application data as gpsd prints it (gpsd 3.22 does not decode area notices).
    pub(super) raw: RawPayload,
}

/// One sub-area. Positions are degrees (1/1000 minute resolution), `None` at 181°/91°;
/// distances are metres, already multiplied by the sub-area's scale factor.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SubArea {
    /// A circle, or a point when `radius_m` is 0.
    Circle {
        /// Centre longitude.
        lon: Option<f64>,
        /// Centre latitude.
        lat: Option<f64>,
        /// Position precision: number of decimal places of minutes given (0–4).
        precision: u8,
        /// Radius, metres.
        radius_m: u32,
    },
    /// A rectangle from its south-west corner.
    Rectangle {
        /// Corner longitude.
        lon: Option<f64>,
        /// Corner latitude.
        lat: Option<f64>,
        /// Position precision (0–4).
        precision: u8,
        /// East dimension, metres.
        east_m: u32,
        /// North dimension, metres.
        north_m: u32,
        /// Rotation about the corner, degrees clockwise from north.
        orientation_deg: u16,
    },
    /// A sector of a circle.
    Sector {
        /// Centre longitude.
        lon: Option<f64>,
        /// Centre latitude.
        lat: Option<f64>,
        /// Position precision (0–4).
        precision: u8,
        /// Radius, metres.
        radius_m: u32,
        /// Left boundary, degrees true.
        left_deg: u16,
        /// Right boundary, degrees true.
        right_deg: u16,
    },
    /// A polyline continuing from the previous sub-area's point.
    Polyline(Vec<Leg>),
    /// A polygon continuing from the previous sub-area's point.
    Polygon(Vec<Leg>),
    /// 14 characters of text associated with the notice.
    Text(String),
    /// A reserved shape code (6 or 7).
    Reserved(u8),
}

/// One leg of a polyline or polygon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leg {
    /// Bearing from the previous point, degrees (0.5° resolution).
    pub bearing_deg: f64,
    /// Distance from the previous point, metres.
    pub distance_m: u32,
}

impl AreaNotice {
    /// Decodes a notice with at least one whole sub-area; anything shorter is left raw.
    pub(super) fn decode(at: &At<'_, '_>, raw: RawPayload) -> Option<Self> {
        let count = at.data_len().checked_sub(HEADER)? / SUB_AREA;
        if count == 0 {
            return None;
        }
        let sub_areas = (0..count).map(|i| sub_area(at, HEADER + SUB_AREA * i)).collect();
        Some(Self {
            linkage: at.u(0, 10),
            // 7 bits: lossless.
            notice_type: at.u(10, 7) as u8,
            start: PartialTime::read(at, 17),
            duration: Some(at.u(37, 18)).filter(|&v| v != 262_143),
            sub_areas,
            raw,
        })
    }

    /// The data as gpsd 3.22 renders it: undecoded.
    pub(super) fn raw(&self) -> &RawPayload {
        &self.raw
    }
}

fn sub_area(at: &At<'_, '_>, a: usize) -> SubArea {
    let scale = [1, 10, 100, 1000][at.u(a + 3, 2) as usize];
    let lon = MINUTE_1000.lon(at.i(a + 5, 25));
    let lat = MINUTE_1000.lat(at.i(a + 30, 24));
    // 3 and 9 bits: lossless.
    let precision = at.u(a + 54, 3) as u8;
    let legs = || {
        (0..4)
            .map(|k| (at.u(a + 5 + 20 * k, 10), at.u(a + 15 + 20 * k, 10)))
            // A bearing of 720 (360°) marks an unused leg.
            .take_while(|&(bearing, _)| bearing != 720)
            .map(|(bearing, distance)| Leg {
                bearing_deg: f64::from(bearing) / 2.0,
                distance_m: distance * scale,
            })
            .collect()
    };
    match at.u(a, 3) {
        0 => SubArea::Circle { lon, lat, precision, radius_m: at.u(a + 57, 12) * scale },
        1 => SubArea::Rectangle {
            lon,
            lat,
            precision,
            east_m: at.u(a + 57, 8) * scale,
            north_m: at.u(a + 65, 8) * scale,
            orientation_deg: at.u(a + 73, 9) as u16,
        },
        2 => SubArea::Sector {
            lon,
            lat,
            precision,
            radius_m: at.u(a + 57, 12) * scale,
            left_deg: at.u(a + 69, 9) as u16,
            right_deg: at.u(a + 78, 9) as u16,
        },
        3 => SubArea::Polyline(legs()),
        4 => SubArea::Polygon(legs()),
        5 => SubArea::Text(at.text(a + 3, 14)),
        // 3 bits: 6 or 7.
        shape => SubArea::Reserved(shape as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{armor, decode_payload, render};
    use super::super::{Application, PartialTime};
    use super::{Leg, SubArea};

    #[test]
    fn circle_notice_from_libais_sample_decodes_and_renders_raw_as_gpsd() {
        // libais typeexamples.nmea line 5 (libais: circle, radius 9260 m, precision 4,
        // x -69.864983, y 42.08295, link 10, notice 0).
        let payload = "803Ovrh0EP:024`@02PN04da=3V<>N0000";
        let Application::AreaNotice(n) = decode_payload(payload, 4) else { panic!("area notice") };
        assert_eq!((n.linkage, n.notice_type), (10, 0));
        // libais reports "duration_minutes": 2, the minute of the start time; the spec's
        // 18-bit duration that follows says 20.
        assert_eq!(n.start, PartialTime { month: Some(1), day: Some(1), hour: Some(5), minute: Some(2) });
        assert_eq!(n.duration, Some(20));
        let [SubArea::Circle { lon, lat, precision, radius_m }] = n.sub_areas.as_slice() else {
            panic!("one circle: {:?}", n.sub_areas)
        };
        assert!((lon.unwrap() + 69.864_983).abs() < 1e-6 && (lat.unwrap() - 42.082_95).abs() < 1e-6);
        assert_eq!((*precision, *radius_m), (4, 9260));
        // What gpsdecode 3.22 prints for this line.
        assert_eq!(render(payload, 4), r#","data":"144:0280084a1000281e004b2934398c39e00000""#);
    }

    #[test]
    fn polygon_and_text_sub_areas() {
        let mut fields = vec![(6, 6), (0, 2), (1, 30), (0, 2), (2, 30), (0, 2), (1, 10), (23, 6)];
        // Header: linkage 7, notice 35, 12-24 10:30, duration until cancelled.
        fields.extend([(7, 10), (35, 7), (12, 4), (24, 5), (10, 5), (30, 6), (262_143, 18)]);
        // Polygon, scale ×100: legs (90°, 5 → 500 m), (180°, 3 → 300 m), then unused (720).
        fields.extend([
            (4, 3),
            (2, 2),
            (180, 10),
            (5, 10),
            (360, 10),
            (3, 10),
            (720, 10),
            (0, 10),
            (720, 10),
        ]);
        fields.extend([(0, 10), (0, 2)]);
        // Text "NO ANCHORING" (14 characters, padded with '@' = 0).
        let text: Vec<(u64, usize)> =
            "NO ANCHORING\0\0".bytes().map(|c| (if c == 0 { 0 } else { u64::from(c) % 64 }, 6)).collect();
        fields.push((5, 3));
        fields.extend(text);
        let (payload, fill) = armor(&fields);
        let Application::AreaNotice(n) = decode_payload(&payload, fill) else { panic!("area notice") };
        assert_eq!((n.linkage, n.notice_type, n.duration), (7, 35, None));
        let legs =
            vec![Leg { bearing_deg: 90.0, distance_m: 500 }, Leg { bearing_deg: 180.0, distance_m: 300 }];
        assert_eq!(n.sub_areas, vec![SubArea::Polygon(legs), SubArea::Text("NO ANCHORING".to_owned())]);
        assert!(render(&payload, fill).starts_with(r#","data":"229:"#));
    }

    #[test]
    fn notice_without_a_whole_sub_area_stays_raw() {
        let mut fields = vec![(8, 6), (0, 2), (1, 30), (0, 2), (1, 10), (22, 6)];
        fields.extend([(0, 55), (0, 86)]);
        let (payload, fill) = armor(&fields);
        assert!(matches!(decode_payload(&payload, fill), Application::Raw(_)));
    }
}
