//! Per-partition history: what zone aggregates need beyond the vessels'
//! current state (entries, exits and completed waits in trailing windows,
//! TEU handled, the latest weather).
//!
//! It belongs to the partition, not to the instance: it travels with the
//! partition's vessels in [`PartitionState`](crate::PartitionState), so an
//! instance that takes a partition over continues its history exactly.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use porttrack_schemas::WeatherObservation;
use serde::{Deserialize, Serialize};

use crate::config::PortConfig;
use crate::geography::ZoneId;
use crate::output::{Output, WeatherAlert, WeatherAlertKind};

/// Entries kept per list at most, whatever the windows: a bound on memory
/// if `tick` is never called. At 65,536 entries a zone would need more than
/// 18 arrivals a second sustained for an hour to lose one in the window.
pub(crate) const HISTORY_MAX: usize = 65_536;

/// One partition's history for every zone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PartitionHistory {
    pub(crate) zones: Vec<ZoneHistory>,
}

/// One (zone, partition)'s history.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct ZoneHistory {
    /// Confirmed entries, by the time of the first fix inside.
    #[serde(with = "crate::ser::seq")]
    pub(crate) entries: VecDeque<DateTime<Utc>>,
    /// Confirmed exits.
    #[serde(with = "crate::ser::seq")]
    pub(crate) exits: VecDeque<DateTime<Utc>>,
    /// Completed anchorage waits: (ended at, seconds).
    #[serde(with = "crate::ser::timed")]
    pub(crate) waits: VecDeque<(DateTime<Utc>, i64)>,
    /// TEU loaded at this zone (a berth), ever.
    pub(crate) teu_loaded: u64,
    /// TEU discharged at this zone, ever.
    pub(crate) teu_discharged: u64,
    /// Latest weather.
    pub(crate) weather: Option<WeatherState>,
}

/// Latest weather in a zone, with recent gusts for the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WeatherState {
    pub(crate) latest: WeatherObservation,
    /// Gust samples (time, knots), oldest first, within the trend window.
    #[serde(with = "crate::ser::timed")]
    pub(crate) gusts: VecDeque<(DateTime<Utc>, f32)>,
    pub(crate) gust_alert: bool,
    pub(crate) visibility_alert: bool,
}

impl PartitionHistory {
    /// The zone's history, created on first use.
    pub(crate) fn zone_mut(&mut self, zone: ZoneId) -> &mut ZoneHistory {
        if self.zones.len() <= zone.index() {
            self.zones.resize_with(zone.index() + 1, ZoneHistory::default);
        }
        let h = &mut self.zones[zone.index()];
        if h.entries.len() >= HISTORY_MAX {
            h.entries.pop_front();
        }
        if h.exits.len() >= HISTORY_MAX {
            h.exits.pop_front();
        }
        if h.waits.len() >= HISTORY_MAX {
            h.waits.pop_front();
        }
        h
    }

    /// The zone's history, if it has any.
    pub(crate) fn zone(&self, zone: ZoneId) -> Option<&ZoneHistory> {
        self.zones.get(zone.index())
    }

    /// Drops entries, exits and waits that ended before `before`.
    pub(crate) fn prune(&mut self, entries_before: DateTime<Utc>, waits_before: DateTime<Utc>) {
        for h in &mut self.zones {
            h.entries.retain(|t| *t >= entries_before);
            h.exits.retain(|t| *t >= entries_before);
            h.waits.retain(|(t, _)| *t >= waits_before);
        }
    }

    /// Records a weather observation for `zone`; raises or clears alerts
    /// when the newest observation crosses a limit.
    pub(crate) fn on_weather(
        &mut self,
        zone: ZoneId,
        obs: &WeatherObservation,
        cfg: &PortConfig,
        out: &mut Vec<Output>,
    ) -> bool {
        let window = Duration::seconds(i64::from(cfg.weather_trend_window_s));
        let h = self.zone_mut(zone);
        let state = h.weather.get_or_insert_with(|| WeatherState {
            latest: obs.clone(),
            gusts: VecDeque::new(),
            gust_alert: false,
            visibility_alert: false,
        });
        let mut changed = false;
        if let Some(gust) = obs.wind_gust_kn {
            let i = state.gusts.partition_point(|(t, g)| (*t, *g) < (obs.timestamp, gust));
            if state.gusts.get(i) != Some(&(obs.timestamp, gust)) {
                state.gusts.insert(i, (obs.timestamp, gust));
                changed = true;
            }
        }
        if obs.timestamp >= state.latest.timestamp {
            changed |= state.latest != *obs;
            state.latest = obs.clone();
            let limits = &cfg.weather;
            if let Some(gust) = obs.wind_gust_kn {
                let over = limits.gust_exceeds(gust);
                if over != state.gust_alert {
                    state.gust_alert = over;
                    out.push(Output::Weather(WeatherAlert {
                        zone,
                        station: obs.station.clone(),
                        at: obs.timestamp,
                        kind: WeatherAlertKind::GustAboveCraneLimit,
                        value: gust,
                        limit: limits.crane_gust_limit_kn,
                        raised: over,
                    }));
                }
            }
            if let Some(vis) = obs.visibility_nm {
                let under = limits.visibility_below(vis);
                if under != state.visibility_alert {
                    state.visibility_alert = under;
                    out.push(Output::Weather(WeatherAlert {
                        zone,
                        station: obs.station.clone(),
                        at: obs.timestamp,
                        kind: WeatherAlertKind::VisibilityBelowDepartureLimit,
                        value: vis,
                        limit: limits.safe_departure_visibility_nm,
                        raised: under,
                    }));
                }
            }
        }
        let horizon = state.latest.timestamp - window;
        while state.gusts.front().is_some_and(|(t, _)| *t < horizon) {
            state.gusts.pop_front();
        }
        changed
    }
}
