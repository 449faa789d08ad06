//! The pipeline's view of the port as metrics: processor results and
//! outputs counted per batch, and the port gauges (congestion, berth
//! occupancy, anchorage waits, weather alerts) published at each snapshot.

use std::collections::HashMap;

use porttrack_processors::{CallPhase, Output, Port, Processed, ZoneKind, ZonePartial};
use porttrack_schemas::Event;

use super::PipelineStatus;

/// Publishes the port gauges of a snapshot's merged partials.
pub(super) fn publish_port_gauges(port: &Port, status: &PipelineStatus, partials: &[ZonePartial]) {
    let limits = &port.config().weather;
    let mut waits: HashMap<&str, Vec<i64>> = HashMap::new();
    for p in partials {
        waits.entry(p.zone.as_str()).or_default().extend_from_slice(&p.waiting_now_s);
    }
    for snapshot in porttrack_processors::merge(partials, &port.config().congestion) {
        let zone = snapshot.zone.clone();
        metrics::gauge!(porttrack_metrics::CONGESTION_LEVEL, "zone" => zone.clone())
            .set(snapshot.congestion as u8 as f64);
        if let Some(occupancy) = snapshot.berth_occupancy {
            metrics::gauge!(porttrack_metrics::BERTH_OCCUPANCY_RATIO, "zone" => zone.clone()).set(occupancy);
        }
        if snapshot.kind == ZoneKind::Anchorage {
            let mut w = waits.remove(zone.as_str()).unwrap_or_default();
            w.sort_unstable();
            for (q, label) in [(0.5, "0.5"), (0.9, "0.9")] {
                let v = porttrack_processors::stats::nearest_rank(&w, q);
                metrics::gauge!(porttrack_metrics::ANCHORAGE_WAIT_SECONDS, "zone" => zone.clone(), "quantile" => label)
                        .set(v as f64);
            }
        }
        let weather = snapshot.weather.as_ref();
        let gust = weather.and_then(|w| w.wind_gust_kn).is_some_and(|g| limits.gust_exceeds(g));
        let fog = weather.and_then(|w| w.visibility_nm).is_some_and(|v| limits.visibility_below(v));
        metrics::gauge!(porttrack_metrics::WEATHER_ALERTS_ACTIVE, "zone" => zone.clone(), "kind" => "gust")
            .set(if gust { 1.0 } else { 0.0 });
        metrics::gauge!(porttrack_metrics::WEATHER_ALERTS_ACTIVE, "zone" => zone, "kind" => "visibility")
            .set(if fog { 1.0 } else { 0.0 });
    }
    status.refresh_gauges();
}

/// Processor results of one batch, tallied per (event kind, result) and
/// published once per batch: a labelled counter is a registry lookup
/// (hashing its labels), too dear to pay per event.
#[derive(Debug, Default)]
pub(super) struct ProcessedTally {
    counts: Vec<((&'static str, &'static str), u64)>,
}

impl ProcessedTally {
    /// Counts one event's result.
    pub(super) fn note(&mut self, event: &Event, processed: Processed) {
        let result = match processed {
            Processed::Applied => "applied",
            Processed::Duplicate => "duplicate",
            Processed::Late => "late",
            Processed::Outlier => "outlier",
            _ => "ignored",
        };
        let key = (event.kind().as_str(), result);
        // A batch sees a handful of distinct pairs: a linear search wins.
        match self.counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((key, 1)),
        }
    }

    /// Adds the tally to `porttrack_processor_events_total` (and outliers,
    /// implied speeds no ship makes, to the `position_jump` anomalies).
    pub(super) fn publish(self) {
        for ((kind, result), n) in self.counts {
            if result == "outlier" {
                metrics::counter!(porttrack_metrics::ANOMALIES_TOTAL, "kind" => "position_jump").increment(n);
            }
            metrics::counter!(porttrack_metrics::PROCESSOR_EVENTS_TOTAL, "kind" => kind, "result" => result)
                .increment(n);
        }
    }
}

pub(super) fn count_outputs(outputs: &[Output]) {
    for o in outputs {
        match o {
            Output::PortCall(u) if u.phase == CallPhase::Arrived && u.call.arrival_observed => {
                metrics::counter!(porttrack_metrics::PORT_ARRIVALS_TOTAL).increment(1);
            }
            Output::PortCall(u) if u.phase == CallPhase::Departed => {
                metrics::counter!(porttrack_metrics::PORT_DEPARTURES_TOTAL).increment(1);
            }
            Output::Anomaly(a) => {
                let kind = match &a.kind {
                    porttrack_processors::AnomalyKind::DarkPeriod { .. }
                    | porttrack_processors::AnomalyKind::WentSilent { .. } => "dark",
                    porttrack_processors::AnomalyKind::Speeding { .. } => "speeding",
                    porttrack_processors::AnomalyKind::StoppedInChannel { .. } => "stopped_in_channel",
                    porttrack_processors::AnomalyKind::HazardousInRestricted { .. } => {
                        "hazardous_in_restricted"
                    }
                    _ => "other",
                };
                metrics::counter!(porttrack_metrics::ANOMALIES_TOTAL, "kind" => kind).increment(1);
            }
            _ => {}
        }
    }
}
