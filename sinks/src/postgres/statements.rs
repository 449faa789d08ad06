//! The statements the sink runs, from `sinks/sql/`, and the binary types of
//! every staged kind's `COPY` columns.
//!
//! A [`Kind`] ties a `COPY` into the session's staging table to its column
//! types and to the `INSERT … SELECT … ON CONFLICT` merges that move staged
//! rows into the real tables. The types here must match the column lists of
//! `sinks/sql/copy_*.sql` in order (a unit test counts them), and the row
//! encoders in [`copy`](super::copy) write values in the same order.

use tokio_postgres::types::Type;

/// A staged kind: its `COPY` statement, the column types, and its merges.
pub(super) struct Kind {
    pub(super) copy: &'static str,
    pub(super) types: &'static [Type],
    pub(super) merges: &'static [&'static str],
}

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../../sql/", $name, ".sql"))
    };
}

pub(super) const STAGING: &str = sql!("staging");
pub(super) const ENSURE_PARTITION: &str = sql!("ensure_partition");
pub(super) const SAVE_PROCESSOR_STATE: &str = sql!("save_processor_state");
pub(super) const LOAD_PROCESSOR_STATE: &str = sql!("load_processor_state");

/// The binary types of the `positions` COPY columns, in the order of
/// `copy_positions*.sql`: event_time, source_topic, source_partition,
/// source_offset, source_index, mmsi, lat, lon, sog, cog, heading, nav_status.
pub const POSITION_COPY_TYPES: &[Type] = &[
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::INT4,
    Type::INT8,
    Type::INT2,
    Type::INT4,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT4,
    Type::FLOAT4,
    Type::INT2,
    Type::INT2,
];

pub(super) const POSITIONS: Kind = Kind {
    copy: sql!("copy_positions"),
    types: POSITION_COPY_TYPES,
    // Staged only when the direct COPY met rows already there (see
    // `stage_positions`).
    merges: &[sql!("merge_positions")],
};

/// Positions COPYed straight into the partitioned history (same columns).
pub(super) const POSITIONS_DIRECT: Kind =
    Kind { copy: sql!("copy_positions_direct"), types: POSITION_COPY_TYPES, merges: &[] };

pub(super) const UPSERT_VESSEL_STATE: &str = sql!("upsert_vessel_state");
pub(super) const SAVEPOINT: &str = sql!("savepoint");
pub(super) const ROLLBACK_TO_SAVEPOINT: &str = sql!("rollback_to_savepoint");

pub(super) const VESSELS: Kind = Kind {
    copy: sql!("copy_vessels"),
    types: &[
        Type::INT4,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::FLOAT4,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::INT2,
        Type::INT2,
        Type::BOOL,
        Type::FLOAT4,
        Type::FLOAT4,
    ],
    merges: &[sql!("merge_vessels")],
};

pub(super) const WEATHER: Kind = Kind {
    copy: sql!("copy_weather"),
    types: &[
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::INT2,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
    ],
    merges: &[sql!("merge_weather")],
};

pub(super) const CARGO: Kind = Kind {
    copy: sql!("copy_cargo_events"),
    types: &[
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
    ],
    merges: &[sql!("merge_cargo_events")],
};

pub(super) const PORT_OPS: Kind = Kind {
    copy: sql!("copy_port_ops_events"),
    types: &[
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
    ],
    merges: &[sql!("merge_port_ops_events")],
};

pub(super) const SAFETY_MESSAGES: Kind = Kind {
    copy: sql!("copy_safety_messages"),
    types: &[
        Type::TEXT,
        Type::INT4,
        Type::INT8,
        Type::INT2,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::BOOL,
        Type::INT4,
        Type::INT2,
        Type::BOOL,
        Type::TEXT,
    ],
    merges: &[sql!("merge_safety_messages")],
};

pub(super) const MET_HYDRO: Kind = Kind {
    copy: sql!("copy_met_hydro"),
    types: &[
        Type::INT4,        // mmsi
        Type::TIMESTAMPTZ, // event_time
        Type::INT2,        // dac
        Type::INT2,        // fid
        Type::FLOAT8,      // lat
        Type::FLOAT8,      // lon
        Type::INT2,        // report_day
        Type::INT2,        // report_hour
        Type::INT2,        // report_minute
        Type::FLOAT4,      // wind_speed_kn
        Type::FLOAT4,      // wind_gust_kn
        Type::INT2,        // wind_direction_deg
        Type::INT2,        // wind_gust_direction_deg
        Type::FLOAT4,      // air_temperature_c
        Type::INT2,        // humidity_pct
        Type::FLOAT4,      // dew_point_c
        Type::FLOAT4,      // pressure_hpa
        Type::INT2,        // pressure_tendency
        Type::FLOAT4,      // visibility_nm
        Type::BOOL,        // visibility_greater
        Type::FLOAT4,      // water_level_m
        Type::INT2,        // water_level_trend
        Type::FLOAT4,      // current_speed_kn
        Type::INT2,        // current_direction_deg
        Type::FLOAT4,      // wave_height_m
        Type::INT2,        // wave_period_s
        Type::INT2,        // wave_direction_deg
        Type::FLOAT4,      // swell_height_m
        Type::INT2,        // swell_period_s
        Type::INT2,        // swell_direction_deg
        Type::INT2,        // sea_state
        Type::FLOAT4,      // water_temperature_c
        Type::INT2,        // precipitation_type
        Type::FLOAT4,      // salinity_permille
        Type::INT2,        // ice
        Type::JSONB,       // details
        Type::TEXT,        // source_topic
        Type::INT4,        // source_partition
        Type::INT8,        // source_offset
        Type::INT2,        // source_index
    ],
    merges: &[sql!("merge_met_hydro")],
};

pub(super) const STATIONS: Kind = Kind {
    copy: sql!("copy_stations"),
    types: &[
        Type::INT4,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::TEXT,
        Type::INT2,
        Type::BOOL,
        Type::BOOL,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
        Type::INT2,
    ],
    merges: &[sql!("merge_stations")],
};

pub(super) const ZONE_EVENTS: Kind = Kind {
    copy: sql!("copy_zone_events"),
    types: &[Type::INT4, Type::TEXT, Type::TEXT, Type::TEXT, Type::TIMESTAMPTZ, Type::INT8],
    merges: &[sql!("merge_zone_events")],
};

pub(super) const PORT_CALLS: Kind = Kind {
    copy: sql!("copy_port_calls"),
    types: &[
        Type::TEXT,
        Type::INT4,
        Type::TEXT,
        Type::INT2,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::BOOL,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::INT8,
        Type::JSONB,
    ],
    merges: &[sql!("merge_port_calls")],
};

pub(super) const ANOMALIES: Kind = Kind {
    copy: sql!("copy_anomalies"),
    types: &[Type::INT4, Type::TIMESTAMPTZ, Type::TEXT, Type::TEXT, Type::JSONB],
    merges: &[sql!("merge_anomalies")],
};

pub(super) const WEATHER_ALERTS: Kind = Kind {
    copy: sql!("copy_weather_alerts"),
    types: &[Type::TEXT, Type::TEXT, Type::TIMESTAMPTZ, Type::TEXT, Type::FLOAT4, Type::FLOAT4, Type::BOOL],
    merges: &[sql!("merge_weather_alerts")],
};

pub(super) const CONGESTION: Kind = Kind {
    copy: sql!("copy_congestion_partials"),
    types: &[
        Type::TEXT,
        Type::INT4,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
        Type::INT8,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::INT4,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::JSONB,
    ],
    merges: &[sql!("merge_congestion_partials")],
};

pub(super) const DEAD_LETTERS: Kind = Kind {
    copy: sql!("copy_dead_letters"),
    types: &[Type::TEXT, Type::INT4, Type::INT8, Type::INT2, Type::TEXT, Type::TEXT, Type::TIMESTAMPTZ],
    merges: &[sql!("merge_dead_letters")],
};

/// Every staged kind, in the order a batch is merged.
#[cfg(test)]
pub(super) const ALL: [&Kind; 15] = [
    &POSITIONS,
    &POSITIONS_DIRECT,
    &VESSELS,
    &WEATHER,
    &CARGO,
    &PORT_OPS,
    &SAFETY_MESSAGES,
    &MET_HYDRO,
    &STATIONS,
    &ZONE_EVENTS,
    &PORT_CALLS,
    &ANOMALIES,
    &WEATHER_ALERTS,
    &CONGESTION,
    &DEAD_LETTERS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_staged_kind_lists_one_type_per_copied_column() {
        for kind in ALL {
            // The statement without its SQL comments, which may hold parentheses.
            let sql: String = kind
                .copy
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            let open = sql.find('(').unwrap();
            let close = sql[open..].find(')').unwrap() + open;
            let columns = sql[open + 1..close].split(',').count();
            assert_eq!(columns, kind.types.len(), "{}", kind.copy);
        }
    }
}
