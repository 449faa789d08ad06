//! Index families: one per event kind and per derived kind, each with its
//! strict mappings (`sinks/es/{family}.json`), its index template and, in
//! ILM mode, the lifecycle policy its data stream follows.

use std::time::Duration;

use serde_json::json;

/// A family of indices sharing one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// Position reports (`geo_point` `location`).
    Positions,
    /// Static and voyage reports.
    Static,
    /// Weather observations (`geo_point` `location` when located).
    Weather,
    /// Cargo events.
    Cargo,
    /// Port operations events.
    PortOps,
    /// Zone entries and exits.
    ZoneEvents,
    /// Port calls (updated in place, by id).
    PortCalls,
    /// Anomalies.
    Anomalies,
    /// Weather alerts.
    WeatherAlerts,
    /// Congestion partials.
    Congestion,
    /// Safety-related texts (AIS 12, 14), `text` analysed for search.
    Safety,
    /// Met-hydro reports (`geo_point` `location` when located; `details` kept, not indexed).
    MetHydro,
    /// Base stations, UTC responses and aids to navigation (`geo_point` `location`).
    Stations,
}

impl Family {
    /// Every family, in installation order.
    pub const ALL: [Family; 13] = [
        Family::Positions,
        Family::Static,
        Family::Weather,
        Family::Cargo,
        Family::PortOps,
        Family::ZoneEvents,
        Family::PortCalls,
        Family::Anomalies,
        Family::WeatherAlerts,
        Family::Congestion,
        Family::Safety,
        Family::MetHydro,
        Family::Stations,
    ];

    /// The name used in index and template names.
    pub fn name(self) -> &'static str {
        match self {
            Family::Positions => "positions",
            Family::Static => "static",
            Family::Weather => "weather-obs",
            Family::Cargo => "cargo",
            Family::PortOps => "port-ops",
            Family::ZoneEvents => "zone-events",
            Family::PortCalls => "port-calls",
            Family::Anomalies => "anomalies",
            Family::WeatherAlerts => "weather-alerts",
            Family::Congestion => "congestion",
            Family::Safety => "safety",
            Family::MetHydro => "met-hydro",
            Family::Stations => "stations",
        }
    }

    /// The family's mappings (`sinks/es/{name}.json`).
    pub fn mappings(self) -> &'static str {
        match self {
            Family::Positions => include_str!("../../es/positions.json"),
            Family::Static => include_str!("../../es/static.json"),
            Family::Weather => include_str!("../../es/weather-obs.json"),
            Family::Cargo => include_str!("../../es/cargo.json"),
            Family::PortOps => include_str!("../../es/port-ops.json"),
            Family::ZoneEvents => include_str!("../../es/zone-events.json"),
            Family::PortCalls => include_str!("../../es/port-calls.json"),
            Family::Anomalies => include_str!("../../es/anomalies.json"),
            Family::WeatherAlerts => include_str!("../../es/weather-alerts.json"),
            Family::Congestion => include_str!("../../es/congestion.json"),
            Family::Safety => include_str!("../../es/safety.json"),
            Family::MetHydro => include_str!("../../es/met-hydro.json"),
            Family::Stations => include_str!("../../es/stations.json"),
        }
    }

    /// The template priority: distinct per family (new families are appended
    /// to [`Family::ALL`], so existing priorities never change). No two
    /// families' patterns overlap today (observations are `weather-obs`, not
    /// `weather`, so that `weather-obs-*` never matches alert indices;
    /// `stations-*` and `static-*` differ before the `-`), but Elasticsearch refuses
    /// overlapping templates of equal priority, so a future family cannot
    /// break installation.
    pub fn priority(self) -> u32 {
        200 + Family::ALL.iter().position(|f| *f == self).map_or(0, |i| i as u32)
    }

    /// Whether documents are only ever created, never updated (so the
    /// family can be a data stream).
    pub fn is_append_only(self) -> bool {
        self != Family::PortCalls
    }
}

/// The index template of `family` under `prefix` (a data stream with `ilm`,
/// for append-only families).
pub(super) fn template(prefix: &str, ilm: bool, family: Family) -> serde_json::Value {
    let mappings: serde_json::Value =
        serde_json::from_str(family.mappings()).unwrap_or_else(|_| json!({ "dynamic": "strict" }));
    let data_stream = ilm && family.is_append_only();
    let pattern = if data_stream {
        format!("{}-{}", prefix, family.name())
    } else {
        format!("{}-{}-*", prefix, family.name())
    };
    let mut template = json!({
        "index_patterns": [pattern],
        // Distinct per family: ES refuses overlapping patterns of equal priority.
        "priority": family.priority(),
        "template": { "mappings": mappings },
        "_meta": { "managed_by": "porttrack" }
    });
    if data_stream {
        template["data_stream"] = json!({});
        template["template"]["settings"] = json!({ "index.lifecycle.name": format!("{}-events", prefix) });
    }
    template
}

/// The ILM policy body: hot rollover at 1 day or 50 GB per primary shard,
/// deleted `delete_after` (in whole days, at least one) after rollover.
pub(super) fn ilm_policy(delete_after: Duration) -> serde_json::Value {
    let days = delete_after.as_secs().div_ceil(86_400).max(1);
    json!({ "policy": { "phases": {
        "hot": { "actions": { "rollover": { "max_age": "1d", "max_primary_shard_size": "50gb" } } },
        "delete": { "min_age": format!("{days}d"), "actions": { "delete": {} } }
    }}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_a_strict_mapping_with_a_timestamp() {
        for family in Family::ALL {
            let m: serde_json::Value = serde_json::from_str(family.mappings()).unwrap();
            assert_eq!(m["dynamic"], "strict", "{}", family.name());
            assert_eq!(m["properties"]["@timestamp"]["type"], "date", "{}", family.name());
        }
    }
}
