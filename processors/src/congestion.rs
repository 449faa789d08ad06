//! Zone congestion as mergeable per-partition partials; see [`merge`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{CongestionThresholds, Levels};
use crate::geography::ZoneKind;
use crate::stats::nearest_rank;

/// One partition's contribution to one zone's aggregates at one time.
/// Its key is `(zone, partition)`; a sink keeps the latest per key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZonePartial {
    /// Zone name.
    pub zone: String,
    /// Zone kind.
    pub kind: ZoneKind,
    /// Quay length (berths).
    pub berth_length_m: Option<u32>,
    /// The partition.
    pub partition: i32,
    /// Snapshot time (event time).
    pub at: DateTime<Utc>,
    /// Vessels confirmed inside.
    pub vessels_present: u64,
    /// Vessels anchored inside (the queue).
    pub queue_length: u64,
    /// Current waits of anchored vessels, seconds, ascending.
    pub waiting_now_s: Vec<i64>,
    /// Waits completed in `(at - wait_window_s, at]`, seconds, ascending.
    pub waits_completed_s: Vec<i64>,
    /// Trailing window of the rates, seconds.
    pub rate_window_s: u32,
    /// Entries in `(at - rate_window_s, at]`.
    pub entries: u64,
    /// Exits in `(at - rate_window_s, at]`.
    pub exits: u64,
    /// Vessels moored inside (berths).
    pub moored_vessels: u64,
    /// Sum of known lengths of moored vessels, metres.
    pub moored_length_m: u64,
    /// Moored vessels whose length is unknown (no static data yet).
    pub moored_without_length: u64,
    /// Vessels inside carrying dangerous goods.
    pub hazardous_vessels: u64,
    /// TEU loaded at this zone since tracking began.
    pub teu_loaded: u64,
    /// TEU discharged at this zone since tracking began.
    pub teu_discharged: u64,
    /// Weather seen by this partition's stations.
    pub weather: Option<WeatherPartial>,
}

/// One partition's latest weather for a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherPartial {
    /// The newest observation.
    pub latest: ZoneWeather,
    /// Oldest gust sample in the trend window: (time, knots).
    pub oldest_gust: Option<(DateTime<Utc>, f32)>,
    /// Newest gust sample in the trend window.
    pub newest_gust: Option<(DateTime<Utc>, f32)>,
}

/// The latest weather in a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneWeather {
    /// Reporting station.
    pub station: String,
    /// Observation time.
    pub at: DateTime<Utc>,
    /// Mean wind, knots.
    pub wind_speed_kn: Option<f32>,
    /// Gusts, knots.
    pub wind_gust_kn: Option<f32>,
    /// Wind direction (from), degrees.
    pub wind_direction_deg: Option<u16>,
    /// Visibility, nautical miles.
    pub visibility_nm: Option<f32>,
    /// Significant wave height, metres.
    pub wave_height_m: Option<f32>,
}

/// Congestion levels, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CongestionLevel {
    /// Below every moderate threshold.
    Free,
    /// At or above a moderate threshold.
    Moderate,
    /// At or above a heavy threshold.
    Heavy,
    /// At or above a severe threshold.
    Severe,
}

impl CongestionLevel {
    fn of(value: f64, levels: &Levels) -> CongestionLevel {
        let [moderate, heavy, severe] = levels.0;
        if value >= severe {
            CongestionLevel::Severe
        } else if value >= heavy {
            CongestionLevel::Heavy
        } else if value >= moderate {
            CongestionLevel::Moderate
        } else {
            CongestionLevel::Free
        }
    }

    /// The stable name (a metric label value).
    pub fn as_str(self) -> &'static str {
        match self {
            CongestionLevel::Free => "free",
            CongestionLevel::Moderate => "moderate",
            CongestionLevel::Heavy => "heavy",
            CongestionLevel::Severe => "severe",
        }
    }
}

/// Count, mean and 90th percentile ([nearest rank](crate::stats::nearest_rank)) of a set of durations.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct WaitStats {
    /// How many.
    pub count: u64,
    /// Mean, seconds (0 when empty).
    pub mean_s: f64,
    /// 90th percentile, seconds (0 when empty).
    pub p90_s: i64,
}

impl WaitStats {
    /// Statistics of `values` (sorted ascending).
    pub fn of_sorted(values: &[i64]) -> WaitStats {
        if values.is_empty() {
            return WaitStats::default();
        }
        let n = values.len();
        let sum: i64 = values.iter().sum();
        // Nearest rank: the smallest value with at least 90 % of values at or below it.
        WaitStats { count: n as u64, mean_s: sum as f64 / n as f64, p90_s: nearest_rank(values, 0.9) }
    }
}

/// One zone's aggregates, merged over all partitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneSnapshot {
    /// Zone name.
    pub zone: String,
    /// Zone kind.
    pub kind: ZoneKind,
    /// Snapshot time (the latest of the partials').
    pub at: DateTime<Utc>,
    /// Partitions merged.
    pub partitions: u32,
    /// Vessels inside.
    pub vessels_present: u64,
    /// Vessels anchored inside.
    pub queue_length: u64,
    /// Waits of the vessels anchored now.
    pub waiting_now: WaitStats,
    /// Waits completed in the trailing wait window.
    pub waits_completed: WaitStats,
    /// Entries per hour over the rate window.
    pub arrivals_per_hour: f64,
    /// Exits per hour over the rate window.
    pub departures_per_hour: f64,
    /// Approach channels: exits (completed transits) per hour.
    pub channel_transits_per_hour: Option<f64>,
    /// Berths: moored length over quay length (may exceed 1 when rafted).
    pub berth_occupancy: Option<f64>,
    /// Vessels moored inside.
    pub moored_vessels: u64,
    /// Moored vessels not in the occupancy for want of a length.
    pub moored_without_length: u64,
    /// Vessels inside with dangerous goods.
    pub hazardous_vessels: u64,
    /// TEU loaded here.
    pub teu_loaded: u64,
    /// TEU discharged here.
    pub teu_discharged: u64,
    /// Latest weather.
    pub weather: Option<ZoneWeather>,
    /// Newest minus oldest gust in the trend window, knots.
    pub gust_trend_kn: Option<f32>,
    /// The congestion level (see [`CongestionThresholds`]).
    pub congestion: CongestionLevel,
}

/// Merges partials into one snapshot per zone, ordered by zone name.
///
/// Each instance owns some Kafka partitions, and each vessel belongs to one
/// partition, so a zone's aggregate is the *sum over partitions* of what each
/// partition's vessels contribute. [`Port::snapshot`](crate::Port::snapshot)
/// therefore emits one [`ZonePartial`] per (zone, partition) it owns, made of
/// counts, sums and bounded lists only, and [`merge`] (a pure function, run
/// by the sink or the dashboard over the latest partial of every
/// (zone, partition)) folds them into one [`ZoneSnapshot`] per zone. Because
/// every partial is computed from its partition's state alone and merging
/// is a sum, the merged result is the same however partitions are spread
/// over instances, and a partition that moves simply has its partials
/// written by its new owner under the same key.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use porttrack_processors::{Geography, Port, PortConfig, merge};
/// use porttrack_schemas::{Event, Origin, Position, Sourced};
///
/// // Two instances, each owning one partition with one vessel moored at Botlek.
/// let instances = [
///     Port::new(Geography::rotterdam(), PortConfig::default()),
///     Port::new(Geography::rotterdam(), PortConfig::default()),
/// ];
/// let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
/// for (partition, port) in (0..).zip(&instances) {
///     for i in 0..4 {
///         let p = Position { mmsi: 244_000_000 + partition as u32, timestamp: t0 + Duration::minutes(3 * i),
///                            lat: 51.885, lon: 4.28, sog: Some(0.0), cog: None, heading: None, nav_status: None };
///         let origin = Origin::new("ais.positions", partition, i);
///         port.process(&Sourced { origin, event: Event::Position(p) }, &mut Vec::new());
///     }
/// }
/// // A sink gathers every instance's partials (keyed by zone and partition) and merges them.
/// let at = t0 + Duration::minutes(10);
/// let mut partials = instances[0].snapshot(at);
/// partials.extend(instances[1].snapshot(at));
/// let zones = merge(&partials, &PortConfig::default().congestion);
/// let botlek = zones.iter().find(|z| z.zone == "Botlek").unwrap();
/// assert_eq!((botlek.partitions, botlek.vessels_present, botlek.moored_vessels), (2, 2, 2));
/// ```
///
/// Pass the latest partial of every (zone, partition); partials of the same
/// key are not deduplicated here. Pure and deterministic: the result depends
/// only on the multiset of partials, not on their order.
pub fn merge(partials: &[ZonePartial], thresholds: &CongestionThresholds) -> Vec<ZoneSnapshot> {
    let mut by_zone: BTreeMap<&str, Vec<&ZonePartial>> = BTreeMap::new();
    for p in partials {
        by_zone.entry(p.zone.as_str()).or_default().push(p);
    }
    by_zone.into_values().map(|parts| merge_zone(&parts, thresholds)).collect()
}

fn merge_zone(parts: &[&ZonePartial], thresholds: &CongestionThresholds) -> ZoneSnapshot {
    let first = parts[0];
    let sum = |f: fn(&ZonePartial) -> u64| parts.iter().map(|p| f(p)).sum::<u64>();
    let sorted = |f: fn(&ZonePartial) -> &Vec<i64>| {
        let mut all: Vec<i64> = parts.iter().flat_map(|p| f(p).iter().copied()).collect();
        all.sort_unstable();
        all
    };
    let waiting_now = WaitStats::of_sorted(&sorted(|p| &p.waiting_now_s));
    let waits_completed = WaitStats::of_sorted(&sorted(|p| &p.waits_completed_s));
    let hours = f64::from(first.rate_window_s.max(1)) / 3600.0;
    let entries = sum(|p| p.entries);
    let exits = sum(|p| p.exits);
    let moored_length_m = sum(|p| p.moored_length_m);
    let berth_occupancy = match (first.kind, first.berth_length_m) {
        (ZoneKind::Berth, Some(len)) => Some(moored_length_m as f64 / f64::from(len.max(1))),
        _ => None,
    };
    let weathers: Vec<&WeatherPartial> = parts.iter().filter_map(|p| p.weather.as_ref()).collect();
    // Ties on time break on the station name and values so the merge does
    // not depend on the partials' order.
    let latest = weathers
        .iter()
        .map(|w| &w.latest)
        .max_by(|a, b| {
            (a.at, &a.station).cmp(&(b.at, &b.station)).then(a.wind_gust_kn.total_cmp_opt(b.wind_gust_kn))
        })
        .cloned();
    let oldest =
        weathers.iter().filter_map(|w| w.oldest_gust).min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let newest =
        weathers.iter().filter_map(|w| w.newest_gust).max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let gust_trend_kn = match (oldest, newest) {
        (Some(o), Some(n)) => Some(n.1 - o.1),
        _ => None,
    };
    let vessels_present = sum(|p| p.vessels_present);
    let queue_length = sum(|p| p.queue_length);
    let congestion = match first.kind {
        ZoneKind::Anchorage => CongestionLevel::of(queue_length as f64, &thresholds.anchorage_queue)
            .max(CongestionLevel::of(waiting_now.p90_s as f64 / 3600.0, &thresholds.anchorage_wait_p90_h)),
        ZoneKind::Berth => CongestionLevel::of(berth_occupancy.unwrap_or(0.0), &thresholds.berth_occupancy),
        ZoneKind::ApproachChannel => CongestionLevel::of(vessels_present as f64, &thresholds.channel_vessels),
        _ => CongestionLevel::of(vessels_present as f64, &thresholds.zone_vessels),
    };
    ZoneSnapshot {
        zone: first.zone.clone(),
        kind: first.kind,
        at: parts.iter().map(|p| p.at).max().unwrap_or(first.at),
        partitions: parts.len() as u32,
        vessels_present,
        queue_length,
        waiting_now,
        waits_completed,
        arrivals_per_hour: entries as f64 / hours,
        departures_per_hour: exits as f64 / hours,
        channel_transits_per_hour: (first.kind == ZoneKind::ApproachChannel).then_some(exits as f64 / hours),
        berth_occupancy,
        moored_vessels: sum(|p| p.moored_vessels),
        moored_without_length: sum(|p| p.moored_without_length),
        hazardous_vessels: sum(|p| p.hazardous_vessels),
        teu_loaded: sum(|p| p.teu_loaded),
        teu_discharged: sum(|p| p.teu_discharged),
        weather: latest,
        gust_trend_kn,
        congestion,
    }
}

trait TotalCmpOpt {
    fn total_cmp_opt(self, other: Self) -> std::cmp::Ordering;
}

impl TotalCmpOpt for Option<f32> {
    fn total_cmp_opt(self, other: Self) -> std::cmp::Ordering {
        match (self, other) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_is_nearest_rank() {
        assert_eq!(WaitStats::of_sorted(&[]).p90_s, 0);
        assert_eq!(WaitStats::of_sorted(&[7]).p90_s, 7);
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(WaitStats::of_sorted(&ten).p90_s, 9);
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(WaitStats::of_sorted(&eleven).p90_s, 10);
        assert_eq!(WaitStats::of_sorted(&ten).mean_s, 5.5);
    }

    #[test]
    fn levels_use_inclusive_thresholds() {
        let l = Levels([1.0, 2.0, 3.0]);
        assert_eq!(CongestionLevel::of(0.5, &l), CongestionLevel::Free);
        assert_eq!(CongestionLevel::of(1.0, &l), CongestionLevel::Moderate);
        assert_eq!(CongestionLevel::of(2.5, &l), CongestionLevel::Heavy);
        assert_eq!(CongestionLevel::of(30.0, &l), CongestionLevel::Severe);
    }
}
