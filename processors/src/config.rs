//! Tunables of the port processor, with defaults that suit AIS traffic.
//!
//! Every field has a default; the binary may embed [`PortConfig`] in its own
//! configuration (it deserializes with serde and refuses unknown keys).
//! Durations are whole seconds (`*_s`) so the type stays plain data.

use serde::{Deserialize, Serialize};

/// How the processor interprets vessel movement. See the crate docs for how
/// each rule is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortConfig {
    /// Zone hysteresis: consecutive fixes inside (outside) a zone before an
    /// entry (exit) is confirmed.
    pub hysteresis_fixes: u32,
    /// Zone hysteresis, for slow reporters: at least two consecutive fixes
    /// spanning this long also confirm an entry or exit.
    pub hysteresis_dwell_s: u32,
    /// Below this speed (knots) a vessel is stopped.
    pub stop_speed_kn: f32,
    /// At or above this speed (knots) a stopped vessel is moving again.
    /// Between the two thresholds the previous state holds.
    pub move_speed_kn: f32,
    /// Stopped this long inside a berth (anchorage) makes a vessel moored (anchored).
    pub status_dwell_s: u32,
    /// Stopped this long outside any berth or anchorage makes a vessel anchored.
    pub anchored_elsewhere_after_s: u32,
    /// A fix implying a speed above this (knots) from the previous accepted
    /// fix is a GPS jump and is rejected.
    pub max_speed_kn: f32,
    /// After this many consecutive rejected jumps the new position is
    /// accepted: the earlier fix was the wrong one.
    pub outlier_reanchor_after: u32,
    /// Time constant of the exponentially weighted speed average.
    pub speed_smoothing_s: u32,
    /// Nominal AIS reporting intervals (ITU-R M.1371) by class and state.
    pub reporting: ReportingIntervals,
    /// A silence longer than this multiple of the nominal interval is a dark period.
    pub dark_multiple: f32,
    /// Stopped this long inside an approach channel is an anomaly.
    pub channel_stop_after_s: u32,
    /// Speed (knots) above a zone's limit tolerated before reporting speeding.
    pub speed_tolerance_kn: f32,
    /// Times of recent fixes kept per vessel ([`FixTimes`](crate::FixTimes)),
    /// 8 bytes each: a fix older than the vessel's last one is counted as a
    /// duplicate when its time is among them, else as late. The default of
    /// 16 covers two and a half minutes of a vessel under way and most of an
    /// hour of one at anchor, far longer than a second receiver lags behind
    /// the first. (The name is the track's, which kept whole fixes, 48 bytes
    /// each, and was read for nothing else.)
    pub track_len: usize,
    /// [`Port::tick`](crate::Port::tick) forgets vessels without any event
    /// for this long (their open port call, if any, is dropped with them).
    pub forget_after_s: u32,
    /// Recent cargo and operations event ids kept per vessel to drop replays.
    pub dedup_window: usize,
    /// Window for arrival, departure and transit rates.
    pub rate_window_s: u32,
    /// Window for completed anchorage waits.
    pub wait_window_s: u32,
    /// Window for the gust trend.
    pub weather_trend_window_s: u32,
    /// Operational weather limits.
    pub weather: WeatherLimits,
    /// Congestion level thresholds.
    pub congestion: CongestionThresholds,
    /// The format version checkpoints are written in
    /// ([`PartitionState::VERSION`](crate::PartitionState::VERSION)); every
    /// version since 1 is read. 2, the default, writes times as epoch
    /// milliseconds and tracks as columns: 37% smaller than 1, about 2.3×
    /// cheaper to write and 2× to read. Every release since the one that
    /// introduced it (commit `36a08c1`) reads it, so a canary, a rolling
    /// upgrade or a rollback to one of those keeps processor state. 1 is
    /// what releases before that one read: set it while an instance of one
    /// of them may take over a partition this one checkpointed (a rollback
    /// that far).
    pub checkpoint_version: u32,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            hysteresis_fixes: 3,
            hysteresis_dwell_s: 60,
            stop_speed_kn: 0.5,
            move_speed_kn: 1.0,
            status_dwell_s: 120,
            anchored_elsewhere_after_s: 1_800,
            max_speed_kn: 50.0,
            outlier_reanchor_after: 3,
            speed_smoothing_s: 60,
            reporting: ReportingIntervals::default(),
            dark_multiple: 6.0,
            channel_stop_after_s: 600,
            speed_tolerance_kn: 0.5,
            track_len: 16,
            forget_after_s: 7 * 86_400,
            dedup_window: 256,
            rate_window_s: 3_600,
            wait_window_s: 86_400,
            weather_trend_window_s: 3_600,
            weather: WeatherLimits::default(),
            congestion: CongestionThresholds::default(),
            checkpoint_version: 2,
        }
    }
}

impl PortConfig {
    /// Checks that the values make sense together (the binary's
    /// `check-config` should call this).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field: &'static str, problem: &'static str| Err(ConfigError { field, problem });
        if self.hysteresis_fixes == 0 {
            return err("hysteresis_fixes", "must be at least 1");
        }
        if !(self.stop_speed_kn > 0.0 && self.stop_speed_kn <= self.move_speed_kn) {
            return err("stop_speed_kn", "must be positive and at most move_speed_kn");
        }
        if self.max_speed_kn.is_nan() || self.max_speed_kn <= self.move_speed_kn {
            return err("max_speed_kn", "must exceed move_speed_kn");
        }
        if self.outlier_reanchor_after == 0 {
            return err("outlier_reanchor_after", "must be at least 1");
        }
        if self.dark_multiple.is_nan() || self.dark_multiple < 1.0 {
            return err("dark_multiple", "must be at least 1");
        }
        if !(crate::PartitionState::OLDEST_READABLE..=crate::PartitionState::VERSION)
            .contains(&self.checkpoint_version)
        {
            return err("checkpoint_version", "must be a version this release writes (1 or 2)");
        }
        if self.track_len == 0 {
            return err("track_len", "must be at least 1");
        }
        if self.rate_window_s == 0 || self.wait_window_s == 0 || self.weather_trend_window_s == 0 {
            return err("*_window_s", "windows must be positive");
        }
        let c = &self.congestion;
        for (field, levels) in [
            ("congestion.anchorage_queue", &c.anchorage_queue),
            ("congestion.anchorage_wait_p90_h", &c.anchorage_wait_p90_h),
            ("congestion.berth_occupancy", &c.berth_occupancy),
            ("congestion.channel_vessels", &c.channel_vessels),
            ("congestion.zone_vessels", &c.zone_vessels),
        ] {
            let [a, b, d] = levels.0;
            if !(a.is_finite() && a <= b && b <= d && d.is_finite()) {
                return err(field, "thresholds must be finite and ascending");
            }
        }
        Ok(())
    }
}

/// A configuration value out of place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("port config: {field} {problem}")]
#[non_exhaustive]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub problem: &'static str,
}

/// Nominal AIS reporting intervals in seconds. Class A sends every 2–10 s
/// under way and every 3 min at anchor or moored; class B every 30 s under
/// way and every 3 min when slow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportingIntervals {
    /// Class A, moving.
    pub class_a_moving_s: u32,
    /// Class A, stopped.
    pub class_a_stopped_s: u32,
    /// Class B, moving.
    pub class_b_moving_s: u32,
    /// Class B, stopped.
    pub class_b_stopped_s: u32,
}

impl Default for ReportingIntervals {
    fn default() -> Self {
        ReportingIntervals {
            class_a_moving_s: 10,
            class_a_stopped_s: 180,
            class_b_moving_s: 30,
            class_b_stopped_s: 180,
        }
    }
}

/// Weather limits for port operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeatherLimits {
    /// Container cranes stop above this gust (knots); 38 kn ≈ 20 m/s.
    pub crane_gust_limit_kn: f32,
    /// Departures are held below this visibility (nautical miles).
    pub safe_departure_visibility_nm: f32,
}

impl Default for WeatherLimits {
    fn default() -> Self {
        WeatherLimits { crane_gust_limit_kn: 38.0, safe_departure_visibility_nm: 1.0 }
    }
}

impl WeatherLimits {
    /// Whether a gust (knots) is above the crane limit: cranes stop. Equal
    /// to the limit is still within it.
    pub fn gust_exceeds(&self, gust_kn: f32) -> bool {
        gust_kn > self.crane_gust_limit_kn
    }

    /// Whether a visibility (nautical miles) is below the safe-departure
    /// limit: departures are held. Equal to the limit is still safe.
    pub fn visibility_below(&self, visibility_nm: f32) -> bool {
        visibility_nm < self.safe_departure_visibility_nm
    }
}

/// Three ascending thresholds: at or above the first a zone is moderate, the
/// second heavy, the third severe; below the first it is free.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Levels(pub [f64; 3]);

/// What makes a zone congested, by zone kind. The level of a zone is the
/// worst of the levels its measures reach.
///
/// | kind | measures |
/// |---|---|
/// | anchorage | queue length (vessels anchored); p90 of current waits, hours |
/// | berth | occupancy (moored length / quay length) |
/// | approach channel | vessels present |
/// | port limits, basin, restricted | vessels present |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CongestionThresholds {
    /// Anchorage queue length.
    pub anchorage_queue: Levels,
    /// p90 of current anchorage waits, hours.
    pub anchorage_wait_p90_h: Levels,
    /// Berth occupancy ratio.
    pub berth_occupancy: Levels,
    /// Vessels in an approach channel.
    pub channel_vessels: Levels,
    /// Vessels in any other zone.
    pub zone_vessels: Levels,
}

impl Default for CongestionThresholds {
    fn default() -> Self {
        CongestionThresholds {
            anchorage_queue: Levels([5.0, 10.0, 20.0]),
            anchorage_wait_p90_h: Levels([4.0, 12.0, 24.0]),
            berth_occupancy: Levels([0.5, 0.8, 0.95]),
            channel_vessels: Levels([4.0, 8.0, 12.0]),
            zone_vessels: Levels([100.0, 200.0, 400.0]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_nonsense_is_not() {
        assert_eq!(PortConfig::default().validate(), Ok(()));
        let bad = [
            PortConfig { hysteresis_fixes: 0, ..PortConfig::default() },
            PortConfig { stop_speed_kn: 2.0, ..PortConfig::default() },
            PortConfig { dark_multiple: f32::NAN, ..PortConfig::default() },
            PortConfig {
                congestion: CongestionThresholds {
                    berth_occupancy: Levels([0.9, 0.5, 1.0]),
                    ..Default::default()
                },
                ..PortConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
        let json = r#"{"hysteresis_fixes": 4, "weather": {"crane_gust_limit_kn": 35.0}}"#;
        let parsed: PortConfig = serde_json::from_str(json).unwrap();
        assert_eq!((parsed.hysteresis_fixes, parsed.weather.crane_gust_limit_kn), (4, 35.0));
        assert!(serde_json::from_str::<PortConfig>(r#"{"hysteresis": 4}"#).is_err());
    }

    #[test]
    fn weather_limits_are_strict() {
        let limits = WeatherLimits::default();
        assert!(!limits.gust_exceeds(38.0) && limits.gust_exceeds(38.5) && !limits.gust_exceeds(f32::NAN));
        assert!(
            !limits.visibility_below(1.0)
                && limits.visibility_below(0.9)
                && !limits.visibility_below(f32::NAN)
        );
    }
}
