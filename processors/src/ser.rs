//! The checkpoint's compact serde forms: times as integer epoch milliseconds.
//!
//! A [`PartitionState`](crate::PartitionState) holds some thirty times per
//! vessel (the recent fixes' times, the static data's field times, the
//! route's and the port call's stamps), and it is serialized at every
//! checkpoint. chrono writes a `DateTime<Utc>` as an RFC 3339 string
//! (`"2026-11-22T09:00:00.123Z"`, 26 bytes, formatted field by field); an
//! integer (`1795338000123`, 13 bytes, one `itoa`) is half the bytes and a
//! fraction of the work, and parses without a calendar either.
//!
//! Three rules keep the change invisible to what is restored:
//!
//! * **Lossless.** Event times can carry nanoseconds (a JSON position's
//!   RFC 3339 timestamp keeps whatever digits it was sent with), and the
//!   processor compares them exactly (a fix with the same time as the last
//!   is a duplicate). A time that is not a whole millisecond is therefore
//!   written the old way, as chrono's RFC 3339 string; a whole millisecond,
//!   the common case, as the integer. Every `DateTime<Utc>`, including
//!   `DateTime::<Utc>::MIN_UTC` (the "never" of a static field), has an `i64`
//!   of milliseconds, so the integer form never overflows.
//! * **Old checkpoints still read.** Every reader here accepts both forms,
//!   field by field, so a checkpoint written before the change
//!   ([`PartitionState::VERSION`](crate::PartitionState::VERSION) 1: all
//!   strings) restores to the same state: an upgrade never loses processor
//!   state. `tests/checkpoint_format.rs` pins that with a version 1 fixture.
//! * **Only the checkpoint changes.** [`PortCall`] and [`Service`] are also
//!   outputs, whose JSON the sinks write; their own `Serialize` is left
//!   alone, and the checkpoint writes them through [`call_opt`] and
//!   [`services`] instead. The schema types kept in the state
//!   (`VesselStatic`, `WeatherObservation`) keep their wire form: their serde
//!   is the event contract of `porttrack-schemas`, and they hold one or two
//!   times per vessel or zone, not fifty.
//!
//! The recent fixes' times go one step further: they are written as a
//! column of time deltas ([`fix_times`]). The rules above hold for them
//! too. The track of whole fixes they replaced is still read from older
//! checkpoints, and written empty for the releases that require it
//! ([`legacy_track`]).
//!
//! Missing optional times read as `None`, as they did with the derived
//! readers (`#[serde(default)]` goes with every `with = "opt"` field).
//!
//! Measured by `benches/memory.rs` (5,000 and 100,000 vessels with full
//! tracks, medians): serializing a checkpoint went from about 17 µs to
//! 5.6 µs per vessel, its JSON from 5,255 to 3,295 bytes per vessel, and
//! parsing and restoring it from about 21 µs to 11 µs. Keeping 16 fix times
//! instead of 32 whole fixes, and five static fields instead of the whole
//! record, then took it to 1,626 bytes, 4.9 µs and 6.6 µs (1,000,000
//! vessels, one run).

use std::fmt;

use chrono::{DateTime, Utc};
use porttrack_schemas::PortOpsKind;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::output::{PortCall, Service};

thread_local! {
    /// Set while a version 1 checkpoint is being written ([`writing`]).
    static WRITING_V1: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `write` (a serialization) in the form of checkpoint `version`: for
/// 1, times as chrono's RFC 3339 strings, byte for byte what earlier
/// releases wrote and read.
///
/// Why a thread-local and not a parameter: serde gives a `Serialize` impl
/// no context, and the version decides the form of fields many levels down
/// (every time of every route). Serialization is synchronous, so the flag
/// is set exactly for the nested calls of this one document, and restored
/// after it (even on a panic), so nested or concurrent documents on other
/// threads are not affected.
pub(crate) fn writing<R>(version: u32, write: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WRITING_V1.set(self.0);
        }
    }
    let _restore = Restore(WRITING_V1.replace(version == 1));
    write()
}

fn writing_v1() -> bool {
    WRITING_V1.get()
}

/// A time in the checkpoint's form: epoch milliseconds when it is a whole
/// millisecond, else chrono's RFC 3339 string; reads either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Millis(pub(crate) DateTime<Utc>);

/// Whether `t` is a whole millisecond (and so has an exact integer form).
fn whole_ms(t: &DateTime<Utc>) -> bool {
    t.timestamp_subsec_nanos().is_multiple_of(1_000_000)
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if whole_ms(&self.0) && !writing_v1() {
            s.serialize_i64(self.0.timestamp_millis())
        } else {
            porttrack_schemas::time::serialize(&self.0, s)
        }
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MillisVisitor).map(Millis)
    }
}

struct MillisVisitor;

impl Visitor<'_> for MillisVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("epoch milliseconds or an RFC 3339 date-time")
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Self::Value, E> {
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| E::custom(format_args!("epoch milliseconds {ms} out of range")))
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Self::Value, E> {
        let ms =
            i64::try_from(ms).map_err(|_| E::custom(format_args!("epoch milliseconds {ms} out of range")))?;
        self.visit_i64(ms)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        // What chrono's own `Deserialize` accepts, so every string an older
        // version wrote reads back exactly.
        s.parse::<DateTime<Utc>>().map_err(E::custom)
    }
}

/// `#[serde(with = "crate::ser::time")]` for a `DateTime<Utc>`.
pub(crate) mod time {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        Millis(*t).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        Millis::deserialize(d).map(|m| m.0)
    }
}

/// `#[serde(default, with = "crate::ser::opt")]` for an `Option<DateTime<Utc>>`.
pub(crate) mod opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        t.map(Millis).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Millis>::deserialize(d)?.map(|m| m.0))
    }
}

/// `#[serde(with = "crate::ser::seq")]` for a sequence of times (a `Vec`,
/// a `VecDeque`, an array of any length).
pub(crate) mod seq {
    use super::*;

    pub(crate) fn serialize<'a, C, S>(times: &'a C, s: S) -> Result<S::Ok, S::Error>
    where
        &'a C: IntoIterator<Item = &'a DateTime<Utc>>,
        S: Serializer,
    {
        s.collect_seq(times.into_iter().map(|t| Millis(*t)))
    }

    pub(crate) fn deserialize<'de, C, D>(d: D) -> Result<C, D::Error>
    where
        C: TryFrom<Vec<DateTime<Utc>>>,
        D: Deserializer<'de>,
    {
        let times: Vec<DateTime<Utc>> = Vec::<Millis>::deserialize(d)?.into_iter().map(|m| m.0).collect();
        let len = times.len();
        C::try_from(times)
            .map_err(|_| de::Error::invalid_length(len, &"the number of times this field holds"))
    }
}

/// `#[serde(with = "crate::ser::timed")]` for a sequence of `(time, value)`
/// pairs (zone history entries, waits, gusts).
pub(crate) mod timed {
    use super::*;

    pub(crate) fn serialize<'a, C, V, S>(pairs: &'a C, s: S) -> Result<S::Ok, S::Error>
    where
        &'a C: IntoIterator<Item = &'a (DateTime<Utc>, V)>,
        V: Serialize + 'a,
        S: Serializer,
    {
        s.collect_seq(pairs.into_iter().map(|(t, v)| (Millis(*t), v)))
    }

    pub(crate) fn deserialize<'de, C, V, D>(d: D) -> Result<C, D::Error>
    where
        C: FromIterator<(DateTime<Utc>, V)>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(Millis, V)>::deserialize(d)?.into_iter().map(|(m, v)| (m.0, v)).collect())
    }
}

/// `#[serde(with = "crate::ser::keyed")]` for a sequence of `(key, time)`
/// pairs (when each confirmed zone was entered).
pub(crate) mod keyed {
    use super::*;

    pub(crate) fn serialize<'a, C, K, S>(pairs: &'a C, s: S) -> Result<S::Ok, S::Error>
    where
        &'a C: IntoIterator<Item = &'a (K, DateTime<Utc>)>,
        K: Serialize + 'a,
        S: Serializer,
    {
        s.collect_seq(pairs.into_iter().map(|(k, t)| (k, Millis(*t))))
    }

    pub(crate) fn deserialize<'de, C, K, D>(d: D) -> Result<C, D::Error>
    where
        C: FromIterator<(K, DateTime<Utc>)>,
        K: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, Millis)>::deserialize(d)?.into_iter().map(|(k, m)| (k, m.0)).collect())
    }
}

/// A [`Service`] in the checkpoint's form: the same fields, in the same
/// order, under the same names, its time in [`Millis`].
struct ServiceRef<'a>(&'a Service);

impl Serialize for ServiceRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Destructured without `..`: a field added to `Service` fails to
        // compile here until the checkpoint writes it.
        let Service { event_id, at, kind, resource, berth } = self.0;
        let mut st = s.serialize_struct("Service", 5)?;
        st.serialize_field("event_id", event_id)?;
        st.serialize_field("at", &Millis(*at))?;
        st.serialize_field("kind", kind)?;
        st.serialize_field("resource", resource)?;
        st.serialize_field("berth", berth)?;
        st.end()
    }
}

/// What [`ServiceRef`] (or `Service`'s own `Serialize`, in version 1) wrote.
#[derive(Deserialize)]
struct ServiceIn {
    event_id: Box<str>,
    #[serde(with = "time")]
    at: DateTime<Utc>,
    kind: PortOpsKind,
    resource: Box<str>,
    berth: Option<Box<str>>,
}

impl From<ServiceIn> for Service {
    fn from(s: ServiceIn) -> Service {
        let ServiceIn { event_id, at, kind, resource, berth } = s;
        Service { event_id, at, kind, resource, berth }
    }
}

/// `#[serde(with = "crate::ser::services")]` for a `Vec<Service>` in the checkpoint.
pub(crate) mod services {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(services: &[Service], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(services.iter().map(ServiceRef))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Service>, D::Error> {
        Ok(Vec::<ServiceIn>::deserialize(d)?.into_iter().map(Service::from).collect())
    }
}

/// `#[serde(with = "crate::ser::ids")]` for a vessel's recent event ids: a
/// sequence of strings, as when they were a boxed `VecDeque`, read back at
/// their exact length.
pub(crate) mod ids {
    use thin_vec::ThinVec;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(ids: &ThinVec<Box<str>>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ThinVec<Box<str>>, D::Error> {
        Ok(Vec::<Box<str>>::deserialize(d)?.into_iter().collect())
    }
}

/// A [`PortCall`] in the checkpoint's form (see [`ServiceRef`]).
struct PortCallRef<'a>(&'a PortCall);

impl Serialize for PortCallRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_as(s, Millis, &Services(&self.0.services))
    }
}

struct Services<'a>(&'a [Service]);

impl Serialize for Services<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        services::serialize(self.0, s)
    }
}

/// What [`PortCallRef`] (or `PortCall`'s own `Serialize`, in version 1) wrote.
#[derive(Deserialize)]
// Its `id` is not read: it is made from `mmsi` and `arrived_at`, as it was
// when written (every release has made it so).
struct PortCallIn {
    mmsi: u32,
    #[serde(with = "time")]
    arrived_at: DateTime<Utc>,
    arrival_observed: bool,
    #[serde(default, with = "opt")]
    anchored_at: Option<DateTime<Utc>>,
    waiting_time_s: i64,
    berth: Option<Box<str>>,
    #[serde(default, with = "opt")]
    berthed_at: Option<DateTime<Utc>>,
    #[serde(default, with = "opt")]
    unberthed_at: Option<DateTime<Utc>>,
    service_time_s: i64,
    #[serde(default, with = "opt")]
    departed_at: Option<DateTime<Utc>>,
    teu_loaded: u64,
    teu_discharged: u64,
    #[serde(with = "services")]
    services: Vec<Service>,
}

impl From<PortCallIn> for PortCall {
    fn from(c: PortCallIn) -> PortCall {
        let PortCallIn {
            mmsi,
            arrived_at,
            arrival_observed,
            anchored_at,
            waiting_time_s,
            berth,
            berthed_at,
            unberthed_at,
            service_time_s,
            departed_at,
            teu_loaded,
            teu_discharged,
            services,
        } = c;
        PortCall {
            mmsi,
            arrived_at,
            arrival_observed,
            anchored_at,
            waiting_time_s,
            berth,
            berthed_at,
            unberthed_at,
            service_time_s,
            departed_at,
            teu_loaded,
            teu_discharged,
            services: services.into_iter().collect(),
        }
    }
}

/// `#[serde(default, with = "crate::ser::call_opt")]` for an
/// `Option<Box<PortCall>>` in the checkpoint.
pub(crate) mod call_opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(call: &Option<Box<PortCall>>, s: S) -> Result<S::Ok, S::Error> {
        call.as_deref().map(PortCallRef).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<PortCall>>, D::Error> {
        Ok(Option::<PortCallIn>::deserialize(d)?.map(|c| Box::new(PortCall::from(c))))
    }
}

/// Epoch milliseconds from a column of deltas: the first time's, then each
/// time's after the one before.
fn times_from_deltas<E: de::Error>(at: Vec<i64>) -> Result<Vec<DateTime<Utc>>, E> {
    let mut ms = 0_i64;
    let mut times = Vec::with_capacity(at.len());
    for (i, d) in at.into_iter().enumerate() {
        ms = if i == 0 { d } else { ms.checked_add(d).ok_or_else(|| E::custom("time column overflows"))? };
        times.push(MillisVisitor.visit_i64::<E>(ms)?);
    }
    Ok(times)
}

/// A column of whole-millisecond times: the first time's epoch milliseconds,
/// then each time's milliseconds after the previous one (ten thousand, not
/// 1.8 trillion, for a fix every 10 s). Negative deltas are allowed.
struct AtColumn<I>(I);

/// `I` yields epoch milliseconds.
impl<I: Iterator<Item = i64> + Clone> Serialize for AtColumn<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ms = self.0.clone();
        // Both ends are within chrono's range (±8.3e15 ms): no overflow.
        let deltas = ms.clone().zip(ms.clone().skip(1)).map(|(a, b)| b - a);
        s.collect_seq(ms.take(1).chain(deltas))
    }
}

/// `#[serde(default, with = "crate::ser::fix_times")]` for a vessel's
/// [`FixTimes`](crate::fix_times::FixTimes): `{"at":[…]}`, an
/// [`AtColumn`], like the column of the track it replaced.
///
/// Times that are not all whole milliseconds, and none, are written as a
/// sequence of [`Millis`] (as is everything in version 1); the reader takes
/// either form.
pub(crate) mod fix_times {
    use super::*;
    use crate::fix_times::FixTimes;

    pub(crate) fn serialize<S: Serializer>(times: &FixTimes, s: S) -> Result<S::Ok, S::Error> {
        if !times.is_empty() && !writing_v1() {
            // Compact times are whole milliseconds already, the usual case.
            if let Some(ms) = times.compact_millis() {
                return column(ms, s);
            }
            if times.iter().all(|t| whole_ms(&t)) {
                return column(times.iter().map(|t| t.timestamp_millis()), s);
            }
        }
        s.collect_seq(times.iter().map(Millis))
    }

    fn column<S: Serializer>(ms: impl Iterator<Item = i64> + Clone, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("FixTimes", 1)?;
        st.serialize_field("at", &AtColumn(ms))?;
        st.end()
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Column {
        at: Vec<i64>,
    }

    struct FixTimesVisitor;

    impl<'de> Visitor<'de> for FixTimesVisitor {
        type Value = FixTimes;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("fix times: a sequence of times or an object with an `at` column")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut times = Vec::new();
            while let Some(Millis(t)) = seq.next_element()? {
                times.push(t);
            }
            Ok(FixTimes::from_times(times))
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            let Column { at } = Column::deserialize(de::value::MapAccessDeserializer::new(map))?;
            Ok(FixTimes::from_times(times_from_deltas::<A::Error>(at)?))
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FixTimes, D::Error> {
        d.deserialize_any(FixTimesVisitor)
    }
}

/// `#[serde(rename = "track", default, with = "crate::ser::legacy_track")]`:
/// the `track` of whole fixes that [`FixTimes`](crate::fix_times::FixTimes)
/// replaced.
///
/// Releases before it require the field, so it is written, empty (`[]`,
/// which they read as a track they have not filled yet: a rollback keeps
/// every other part of the state). Their checkpoints carry it full, in
/// either of its forms: a sequence of fixes (version 1, and any track with
/// a time that is not a whole millisecond) or columns
/// `{"at":[…],"lat":[…],"lon":[…],"sog":[…],"cog":[…],"heading":[…]}` with
/// `at` an [`AtColumn`]. Both are read whole, checked, and reduced to the
/// fixes' times, which the route adopts as its
/// [`FixTimes`](crate::fix_times::FixTimes) when it is read
/// (`route/read.rs`).
pub(crate) mod legacy_track {
    use super::*;
    use crate::fix_times::{FixTimes, LegacyTrack};
    use crate::route::Fix;

    /// Writes an empty track, whatever the field holds.
    pub(crate) fn serialize<T, S: Serializer>(_: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(std::iter::empty::<Fix>())
    }

    #[derive(Deserialize)]
    struct Columns {
        at: Vec<i64>,
        lat: Vec<f64>,
        lon: Vec<f64>,
        sog: Vec<Option<f32>>,
        cog: Vec<Option<f32>>,
        heading: Vec<Option<u16>>,
    }

    impl Columns {
        fn into_times<E: de::Error>(self) -> Result<Vec<DateTime<Utc>>, E> {
            let n = self.at.len();
            let lens = [self.lat.len(), self.lon.len(), self.sog.len(), self.cog.len(), self.heading.len()];
            if lens.iter().any(|len| *len != n) {
                return Err(E::custom(format_args!("track columns of different lengths ({n} times)")));
            }
            times_from_deltas(self.at)
        }
    }

    struct TrackVisitor;

    impl<'de> Visitor<'de> for TrackVisitor {
        type Value = Vec<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a track: a sequence of fixes or an object of columns")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut times = Vec::new();
            while let Some(fix) = seq.next_element::<Fix>()? {
                times.push(fix.at);
            }
            Ok(times)
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Columns::deserialize(de::value::MapAccessDeserializer::new(map))?.into_times()
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LegacyTrack, D::Error> {
        let times = d.deserialize_any(TrackVisitor)?;
        Ok(LegacyTrack((!times.is_empty()).then(|| Box::new(FixTimes::from_times(times)))))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::fix_times::{FixTimes, LegacyTrack};

    fn write(t: DateTime<Utc>) -> String {
        serde_json::to_string(&Millis(t)).unwrap()
    }

    fn read(json: &str) -> DateTime<Utc> {
        serde_json::from_str::<Millis>(json).unwrap().0
    }

    fn at_ms(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn whole_milliseconds_are_written_as_integers() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::milliseconds(123);
        assert_eq!(write(t), t.timestamp_millis().to_string());
        assert_eq!(read(&write(t)), t);
    }

    #[test]
    fn sub_millisecond_times_keep_every_digit_as_a_string() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::nanoseconds(123_456_789);
        let json = write(t);
        assert_eq!(json, "\"2026-11-22T09:00:00.123456789Z\"");
        assert_eq!(read(&json), t);
    }

    #[test]
    fn the_extremes_round_trip() {
        // MIN_UTC is a static field's "never": a whole millisecond, far in the past.
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, DateTime::UNIX_EPOCH, at_ms(-1)] {
            assert_eq!(read(&write(t)), t, "{t:?} as {}", write(t));
        }
        assert!(write(DateTime::<Utc>::MIN_UTC).starts_with('-'), "an integer");
    }

    #[test]
    fn version_1_strings_still_read() {
        // As chrono wrote them before: whole seconds, milliseconds, nanoseconds, year -262143.
        for (json, t) in [
            ("\"2026-11-22T09:00:00Z\"", Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()),
            (
                "\"2026-11-22T09:00:00.120Z\"",
                Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::milliseconds(120),
            ),
            ("\"-262143-01-01T00:00:00Z\"", DateTime::<Utc>::MIN_UTC),
        ] {
            assert_eq!(read(json), t, "{json}");
            assert_eq!(serde_json::to_string(&t).unwrap(), json, "chrono writes {json} itself");
        }
    }

    #[test]
    fn out_of_range_and_wrong_types_are_errors_not_panics() {
        for json in ["9223372036854775807", "18446744073709551615", "1.5", "true", "\"yesterday\"", "null"] {
            assert!(serde_json::from_str::<Millis>(json).is_err(), "{json}");
        }
        // Through a `serde_json::Value`, as the Postgres store reads.
        let value = serde_json::json!(1_795_338_000_123_i64);
        assert_eq!(serde_json::from_value::<Millis>(value).unwrap().0, at_ms(1_795_338_000_123));
    }

    #[test]
    fn checkpoint_calls_have_the_fields_and_names_of_output_calls() {
        let mut call = PortCall::open(244_000_001, at_ms(1_795_338_000_000), true);
        call.anchored_at = Some(at_ms(1_795_338_060_000));
        call.berth = Some("Botlek".into());
        call.services.push(Service {
            event_id: "pilot-1".into(),
            at: at_ms(1_795_338_120_500),
            kind: PortOpsKind::PilotBoarded,
            resource: "pilot-7".into(),
            berth: None,
        });
        let output = serde_json::to_value(&call).unwrap();
        let checkpoint = serde_json::to_value(PortCallRef(&call)).unwrap();
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&output), keys(&checkpoint));
        assert_eq!(keys(&output["services"][0]), keys(&checkpoint["services"][0]));
        assert_eq!(checkpoint["arrived_at"], serde_json::json!(1_795_338_000_000_i64));
        assert_eq!(checkpoint["departed_at"], serde_json::Value::Null);
        // The checkpoint reads both its own form and the output's (version 1).
        for json in [checkpoint, output] {
            let back: PortCall = serde_json::from_value::<PortCallIn>(json).unwrap().into();
            assert_eq!(back, call);
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Timed {
        #[serde(with = "fix_times")]
        fix_times: FixTimes,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Tracked {
        #[serde(with = "legacy_track")]
        track: LegacyTrack,
    }

    fn timed(times: &[DateTime<Utc>]) -> Timed {
        Timed { fix_times: FixTimes::from_times(times.iter().copied()) }
    }

    /// The times a `track` was read as.
    fn track_times(json: &str) -> Vec<DateTime<Utc>> {
        let tracked: Tracked = serde_json::from_str(json).unwrap();
        tracked.track.0.map(|t| t.iter().collect()).unwrap_or_default()
    }

    #[test]
    fn fix_times_are_written_as_a_column_of_deltas() {
        let t = at_ms(1_795_338_000_000);
        let times = timed(&[t, t + Duration::milliseconds(9_000), t + Duration::milliseconds(10_250)]);
        let json = serde_json::to_value(&times).unwrap();
        assert_eq!(json["fix_times"], serde_json::json!({"at": [1_795_338_000_000_i64, 9_000, 1_250]}));
        let text = serde_json::to_string(&times).unwrap();
        assert_eq!(serde_json::from_str::<Timed>(&text).unwrap(), times);
        assert_eq!(serde_json::from_value::<Timed>(json).unwrap(), times);
        // Negative deltas read too (a hand-written document), sorted.
        let back: Timed =
            serde_json::from_str(r#"{"fix_times":{"at":[1795338010250,-1250,-9000]}}"#).unwrap();
        assert_eq!(back, times);
    }

    #[test]
    fn empty_and_sub_millisecond_fix_times_are_sequences() {
        let empty = timed(&[]);
        assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"fix_times":[]}"#);
        assert_eq!(serde_json::from_str::<Timed>(r#"{"fix_times":[]}"#).unwrap(), empty);
        let t = at_ms(1_795_338_000_000);
        let fine = timed(&[t, t + Duration::nanoseconds(1)]);
        let json = serde_json::to_value(&fine).unwrap();
        assert_eq!(
            json["fix_times"],
            serde_json::json!([1_795_338_000_000_i64, "2026-11-22T09:00:00.000000001Z"])
        );
        assert_eq!(serde_json::from_value::<Timed>(json).unwrap(), fine);
        let v1 = writing(1, || serde_json::to_value(timed(&[t])).unwrap());
        assert_eq!(v1["fix_times"], serde_json::json!(["2026-11-22T09:00:00Z"]));
    }

    #[test]
    fn malformed_fix_times_are_errors() {
        for bad in [
            r#"{"fix_times":{"at":[9223372036854775807,1]}}"#,
            r#"{"fix_times":{"at":[1],"lat":[1.0]}}"#,
            r#"{"fix_times":[true]}"#,
            r#"{"fix_times":7}"#,
        ] {
            assert!(serde_json::from_str::<Timed>(bad).is_err(), "{bad}");
        }
    }

    /// What releases before `FixTimes` read: a `track` they have not filled yet.
    #[test]
    fn the_track_is_written_empty() {
        let tracked = Tracked { track: LegacyTrack(Some(Box::new(FixTimes::from_times([at_ms(0)])))) };
        assert_eq!(serde_json::to_string(&tracked).unwrap(), r#"{"track":[]}"#);
        assert_eq!(serde_json::from_str::<Tracked>(r#"{"track":[]}"#).unwrap().track, LegacyTrack(None));
    }

    #[test]
    fn tracks_as_columns_read_as_their_times() {
        let columns = r#"{"track":{"at":[1795338000000,10250,-1250],"lat":[51.9,51.9001,51.9002],
            "lon":[4.0,3.9999,3.9998],"sog":[0.0,0.1,0.2],"cog":[null,null,null],"heading":[0,1,2]}}"#;
        let t = at_ms(1_795_338_000_000);
        assert_eq!(
            track_times(columns),
            [t, t + Duration::milliseconds(9_000), t + Duration::milliseconds(10_250)]
        );
    }

    #[test]
    fn tracks_in_the_version_1_form_still_read() {
        let old = r#"{"track":[{"at":"2026-11-22T09:00:00.123Z","lat":51.9,"lon":4.0,"sog":0.0,"cog":null,"heading":0},
            {"at":1795338000000,"lat":51.9,"lon":4.0,"sog":0.0,"cog":null,"heading":0}]}"#;
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::milliseconds(123);
        assert_eq!(track_times(old), [at_ms(1_795_338_000_000), t]);
    }

    #[test]
    fn malformed_track_columns_are_errors() {
        for bad in [
            r#"{"track":{"at":[1,2],"lat":[1.0],"lon":[1.0,2.0],"sog":[null,null],"cog":[null,null],"heading":[null,null]}}"#,
            r#"{"track":{"at":[1],"lat":[1.0],"lon":[1.0],"sog":[null],"cog":[null]}}"#,
            r#"{"track":{"at":[9223372036854775807,1],"lat":[1.0,1.0],"lon":[1.0,1.0],"sog":[null,null],"cog":[null,null],"heading":[null,null]}}"#,
            r#"{"track":{"at":[8334632851200000],"lat":[1.0],"lon":[1.0],"sog":[null],"cog":[null],"heading":[null]}}"#,
            r#"{"track":7}"#,
        ] {
            assert!(serde_json::from_str::<Tracked>(bad).is_err(), "{bad}");
        }
    }

    /// The version 1 form is chrono's own, byte for byte (earlier releases
    /// read it); `porttrack_schemas::time` pins its writer over all times.
    #[test]
    fn version_1_writes_times_as_chrono_does() {
        for t in [at_ms(1_795_338_000_123), at_ms(1_795_338_000_000) + Duration::nanoseconds(5)] {
            let ours = writing(1, || serde_json::to_string(&Millis(t)).unwrap());
            assert_eq!(ours, serde_json::to_string(&t).unwrap(), "{t:?}");
        }
    }

    proptest! {
        #[test]
        fn every_set_of_fix_times_round_trips(
            nanos in proptest::collection::vec((any::<i64>(), any::<bool>()), 0..40),
            base in 1_000_000_000_000_i64..2_000_000_000_000,
            realistic: bool,
        ) {
            // Any time a route keeps (epoch nanoseconds), half of them whole
            // milliseconds; or a realistic run of whole milliseconds.
            let times: Vec<DateTime<Utc>> = nanos
                .into_iter()
                .enumerate()
                .map(|(i, (n, whole_ms))| match (realistic, whole_ms) {
                    (true, _) => at_ms(base + i as i64 * 10_003),
                    (false, true) => DateTime::from_timestamp_nanos(n / 1_000_000 * 1_000_000),
                    (false, false) => DateTime::from_timestamp_nanos(n),
                })
                .collect();
            let times = timed(&times);
            let text = serde_json::to_string(&times).unwrap();
            prop_assert_eq!(serde_json::from_str::<Timed>(&text).unwrap(), times);
        }

        #[test]
        fn every_time_round_trips(secs in DateTime::<Utc>::MIN_UTC.timestamp()..DateTime::<Utc>::MAX_UTC.timestamp(), nanos in 0u32..1_000_000_000, whole_ms: bool) {
            let nanos = if whole_ms { nanos / 1_000_000 * 1_000_000 } else { nanos };
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let json = write(t);
            prop_assert_eq!(read(&json), t);
            prop_assert_eq!(json.starts_with('"'), !super::whole_ms(&t));
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(serde_json::from_value::<Millis>(value).unwrap().0, t);
        }
    }
}
