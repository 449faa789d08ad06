//! Port calls scored: the port processor's calls against the simulator's
//! ground truth.
//!
//! [`run`] drives a noisy simulation ([`Noise::realistic`] by default)
//! through the real processor in-process, exactly as the pipeline's stage
//! applies records (`Port::process` per record in partition order, `tick`
//! with the event-time watermark every simulated minute; no Kafka: this
//! scores the processor, delivery is tested elsewhere), keeps the last
//! version of every port call it emits (by id: the processor emits the whole
//! call with each update) and compares them with [`CallTruth`].
//!
//! # What is scored
//!
//! The run stops [`ScoreOptions::settle`] after the `calls`-th visit ended
//! (the *cutoff*). Truth visits are
//! * **scored** when their arrival and departure were both simulated and the
//!   departure is before the cutoff, and the vessel did not turn back;
//! * **aborted** (negatives) when the vessel crossed the limits and turned
//!   back without anchoring or berthing, before the cutoff: a detected call
//!   matching one is a false positive;
//! * **edge** otherwise (in progress at the start or at the cutoff): neither
//!   they nor the detections matched to them count.
//!
//! # Matching
//!
//! One-to-one, per MMSI, by time overlap: every (truth, detected) pair of a
//! vessel whose intervals `[arrival, departure]` overlap (an open end runs
//! to the end of the run) is a candidate; pairs are taken greedily by
//! decreasing overlap, each truth and each detection at most once. Then:
//! * **true positive**: a detection matched to a scored visit;
//! * **false positive**: a detection matched to an aborted approach
//!   (`aborted`), a detection overlapping an already matched visit (`split`:
//!   one visit reported as several calls, e.g. across a dark period or a
//!   GPS jump out of the limits), or overlapping no visit (`spurious`);
//!   detections arriving after the cutoff are not counted;
//! * **missed**: a scored visit no detection matched.
//!
//! `precision = TP / (TP + FP)`, `recall = TP / scored`.
//!
//! # Phase errors
//!
//! Over the true positives, for each phase both sides know: the error
//! `detected − truth`, in seconds; the table gives the median and p90 (the
//! nearest-rank quantiles of `porttrack_processors::stats`) of its absolute
//! value, with how many pairs lacked the phase on the detected side
//! (`missing`) or had it where the truth has none (`extra`). Phases: arrival
//! (crossing the port limits inbound), anchoring (first anchor down), wait
//! end (last anchor up; detected as `anchored_at + waiting_time_s`, exact
//! for one anchoring), berthing (first berth), unberthing (last cast-off),
//! departure (crossing the limits outbound); and the durations waiting time
//! (total at anchor) and service time (total alongside), over the calls
//! where either side has any. `berth` is the share of berthed calls whose
//! last berth is right.

use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use porttrack_processors::{CallId, Geography, Output, Port, PortCall, PortConfig, stats::nearest_rank};
use porttrack_schemas::{Event, Origin, PortOpsEvent, Sourced, VesselStatic, WeatherObservation};

use super::{CallTruth, Expect, Noise, SimConfig, Simulator, Stream};

/// What to simulate and how to process it.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Scored visits to simulate (the run stops when this many ended).
    pub calls: usize,
    /// Ships in the simulation at any time.
    pub vessels: usize,
    /// Simulation seed.
    pub seed: u64,
    /// Simulated clock at the first record.
    pub start: DateTime<Utc>,
    /// Noise on the reports and the traffic.
    pub noise: Noise,
    /// The processor's configuration.
    pub config: PortConfig,
    /// Partitions the vessels are spread over (by MMSI).
    pub partitions: u32,
    /// Simulated time after the cutoff, so that the processor confirms the
    /// last departures before the run stops.
    pub settle: Duration,
}

impl Default for ScoreOptions {
    /// 1,000 calls of 200 ships with realistic noise, seed 16.
    fn default() -> Self {
        ScoreOptions {
            calls: 1_000,
            vessels: 200,
            seed: 16,
            start: Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().unwrap_or(DateTime::UNIX_EPOCH),
            noise: Noise::realistic(),
            config: PortConfig::default(),
            partitions: 8,
            settle: Duration::hours(1),
        }
    }
}

/// Why a detection was a false positive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FalsePositives {
    /// Matched to an aborted approach.
    pub aborted: usize,
    /// A second (third…) call for one visit.
    pub split: usize,
    /// Overlapping no visit at all.
    pub spurious: usize,
}

impl FalsePositives {
    /// All false positives.
    pub fn total(&self) -> usize {
        self.aborted + self.split + self.spurious
    }
}

/// Error of one phase time or duration over the matched calls.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseError {
    /// The phase.
    pub name: &'static str,
    /// Pairs where both sides have it.
    pub pairs: usize,
    /// Pairs where the truth has it and the detection does not.
    pub missing: usize,
    /// Pairs where the detection has it and the truth does not.
    pub extra: usize,
    /// Median absolute error, seconds.
    pub median_s: i64,
    /// 90th percentile of the absolute error, seconds.
    pub p90_s: i64,
    /// Largest absolute error, seconds.
    pub max_s: i64,
    /// Median signed error (detected − truth), seconds: the bias.
    pub bias_s: i64,
}

/// The result of a scored run.
#[derive(Debug, Clone)]
pub struct Scorecard {
    /// Scored visits (complete, not aborted, ended before the cutoff).
    pub scored: usize,
    /// Aborted approaches ended before the cutoff (negatives).
    pub aborted: usize,
    /// Detected calls counted (matched to scored or aborted visits, or false).
    pub detected: usize,
    /// Detections matched to scored visits.
    pub true_positives: usize,
    /// Detections that are not port calls.
    pub false_positives: FalsePositives,
    /// Scored visits without a detection.
    pub missed: usize,
    /// Errors per phase, in lifecycle order.
    pub phases: Vec<PhaseError>,
    /// Berthed true positives whose last berth is right, and how many berthed.
    pub berth_right: (usize, usize),
    /// Scored visits with each kind of noise: (dark spell, GPS jump,
    /// anchored outside, berth shift).
    pub noisy: (usize, usize, usize, usize),
    /// Events processed.
    pub events: u64,
    /// Wall time spent in `Port::process` and `tick`, for the events/s figure.
    pub processing: std::time::Duration,
    /// Simulated time, from start to the end of the run.
    pub simulated: Duration,
    /// A few failures, described, for diagnosis.
    pub examples: Vec<String>,
}

impl Scorecard {
    /// `TP / (TP + FP)` (1 when nothing was detected).
    pub fn precision(&self) -> f64 {
        let d = self.true_positives + self.false_positives.total();
        if d == 0 { 1.0 } else { self.true_positives as f64 / d as f64 }
    }

    /// `TP / scored` (1 when nothing was scored).
    pub fn recall(&self) -> f64 {
        if self.scored == 0 { 1.0 } else { self.true_positives as f64 / self.scored as f64 }
    }

    /// The error of the phase named `name`.
    pub fn phase(&self, name: &str) -> Option<&PhaseError> {
        self.phases.iter().find(|p| p.name == name)
    }
}

impl fmt::Display for Scorecard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fp = &self.false_positives;
        writeln!(
            f,
            "scored visits {} (aborted approaches {}), detected {}: TP {}, FP {} (aborted {}, split {}, spurious {}), missed {}",
            self.scored,
            self.aborted,
            self.detected,
            self.true_positives,
            fp.total(),
            fp.aborted,
            fp.split,
            fp.spurious,
            self.missed
        )?;
        writeln!(f, "precision {:.4}  recall {:.4}", self.precision(), self.recall())?;
        writeln!(
            f,
            "noise among scored visits: dark spell {}, GPS jump {}, anchored outside {}, berth shift {}",
            self.noisy.0, self.noisy.1, self.noisy.2, self.noisy.3
        )?;
        writeln!(f, "berth right {}/{}", self.berth_right.0, self.berth_right.1)?;
        writeln!(f)?;
        writeln!(
            f,
            "| phase | pairs | missing | extra | median abs error | p90 abs error | max | bias (median signed) |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for p in &self.phases {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                p.name,
                p.pairs,
                p.missing,
                p.extra,
                human(p.median_s),
                human(p.p90_s),
                human(p.max_s),
                human(p.bias_s)
            )?;
        }
        let per_event = self.processing.as_secs_f64() * 1e6 / self.events.max(1) as f64;
        writeln!(
            f,
            "\n{} events over {:.1} simulated days, {:.2} µs per event in the processor",
            self.events,
            self.simulated.num_seconds() as f64 / 86_400.0,
            per_event
        )
    }
}

/// Seconds as `42 s`, `3.5 min` or `1.2 h`.
fn human(s: i64) -> String {
    let a = s.unsigned_abs();
    if a < 120 {
        format!("{s} s")
    } else if a < 7_200 {
        format!("{:.1} min", s as f64 / 60.0)
    } else {
        format!("{:.1} h", s as f64 / 3_600.0)
    }
}

/// What the processor made of the run: the last version of every call.
struct Detected {
    calls: Vec<PortCall>,
    events: u64,
    processing: std::time::Duration,
}

/// Runs the simulation through the processor and scores the calls.
pub fn run(options: &ScoreOptions) -> Scorecard {
    let config =
        SimConfig { vessels: options.vessels, seed: options.seed, start: options.start, invalid_ratio: 0.0 };
    let mut sim = Simulator::new(config).with_noise(options.noise.clone()).with_truth();
    let port = Port::new(Geography::rotterdam(), options.config.clone());
    let (detected, cutoff, end) = process(&mut sim, &port, options);
    let mut card = score(&sim.truth(), &detected.calls, cutoff, end);
    card.events = detected.events;
    card.processing = detected.processing;
    card.simulated = end - options.start;
    card
}

/// The run itself: returns the detections, the cutoff and the end.
fn process(
    sim: &mut Simulator,
    port: &Port,
    options: &ScoreOptions,
) -> (Detected, DateTime<Utc>, DateTime<Utc>) {
    let partitions = options.partitions.max(1);
    let mut offsets = vec![0_i64; partitions as usize];
    let mut calls: HashMap<CallId, PortCall> = HashMap::new();
    let mut out = Vec::new();
    let mut watermark = options.start;
    let mut next_tick = options.start + Duration::minutes(1);
    let (mut seen, mut ended) = (0, 0);
    let mut cutoff = None;
    let (mut events, mut processing) = (0_u64, std::time::Duration::ZERO);
    loop {
        let record = sim.next_record();
        let t = record.event_time;
        if cutoff.is_none() {
            let finished = sim.finished_truth();
            ended += finished[seen..].iter().filter(|c| c.arrived_at.is_some() && !c.aborted).count();
            seen = finished.len();
            if ended >= options.calls {
                cutoff = Some(t);
            }
        }
        if cutoff.is_some_and(|c| t > c + options.settle) {
            break;
        }
        let event = match (record.stream, record.expect) {
            (Stream::Positions, Expect::Valid(p)) => Some(Event::Position(p)),
            (Stream::Static, _) => {
                serde_json::from_slice::<VesselStatic>(&record.payload).ok().map(Event::from)
            }
            (Stream::Ops, _) => serde_json::from_slice::<PortOpsEvent>(&record.payload).ok().map(Event::from),
            (Stream::Weather, _) => {
                serde_json::from_slice::<WeatherObservation>(&record.payload).ok().map(Event::from)
            }
            // Cargo (Avro) changes no phase; invalid positions are off.
            _ => None,
        };
        let Some(event) = event else { continue };
        let partition = record.key.parse::<u32>().map_or(0, |mmsi| mmsi % partitions);
        let offset = &mut offsets[partition as usize];
        let sourced = Sourced { origin: Origin::new("scored", partition as i32, *offset), event };
        *offset += 1;
        let began = Instant::now();
        port.process(&sourced, &mut out);
        watermark = watermark.max(t);
        if watermark >= next_tick {
            port.tick(watermark, &mut out);
            next_tick = watermark + Duration::minutes(1);
        }
        processing += began.elapsed();
        events += 1;
        for o in out.drain(..) {
            if let Output::PortCall(u) = o {
                calls.insert(u.call.id(), u.call);
            }
        }
    }
    let mut calls: Vec<PortCall> = calls.into_values().collect();
    calls.sort_by_key(|a| (a.mmsi, a.arrived_at));
    let cutoff = cutoff.unwrap_or(watermark);
    (Detected { calls, events, processing }, cutoff, watermark)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Scored,
    Aborted,
    Edge,
}

fn role(t: &CallTruth, cutoff: DateTime<Utc>) -> Role {
    match (t.arrived_at, t.departed_at) {
        (Some(_), Some(d)) if d <= cutoff => {
            if t.aborted {
                Role::Aborted
            } else {
                Role::Scored
            }
        }
        _ => Role::Edge,
    }
}

/// Matches detections to the truth and computes the figures (see the module docs).
fn score(truth: &[CallTruth], detected: &[PortCall], cutoff: DateTime<Utc>, end: DateTime<Utc>) -> Scorecard {
    let far_past = DateTime::<Utc>::MIN_UTC;
    let mut by_mmsi: HashMap<u32, (Vec<usize>, Vec<usize>)> = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        by_mmsi.entry(t.mmsi).or_default().0.push(i);
    }
    for (j, d) in detected.iter().enumerate() {
        by_mmsi.entry(d.mmsi).or_default().1.push(j);
    }
    let span_t = |t: &CallTruth| (t.arrived_at.unwrap_or(far_past), t.departed_at.unwrap_or(end));
    let span_d = |d: &PortCall| (d.arrived_at, d.departed_at.unwrap_or(end));
    let overlap = |a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)| {
        (a.1.min(b.1) - a.0.max(b.0)).num_milliseconds()
    };
    let mut match_of_truth: Vec<Option<usize>> = vec![None; truth.len()];
    let mut match_of_detected: Vec<Option<usize>> = vec![None; detected.len()];
    let mut overlaps_any: Vec<Option<usize>> = vec![None; detected.len()];
    for (ts, ds) in by_mmsi.values() {
        let mut pairs: Vec<(i64, usize, usize)> = Vec::new();
        for &i in ts {
            for &j in ds {
                let o = overlap(span_t(&truth[i]), span_d(&detected[j]));
                // Touching intervals (a zero-length detection inside a visit) still overlap.
                if o >= 0 {
                    pairs.push((o, i, j));
                    overlaps_any[j].get_or_insert(i);
                }
            }
        }
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, i, j) in pairs {
            if match_of_truth[i].is_none() && match_of_detected[j].is_none() {
                match_of_truth[i] = Some(j);
                match_of_detected[j] = Some(i);
            }
        }
    }

    let mut card = Scorecard {
        scored: 0,
        aborted: 0,
        detected: 0,
        true_positives: 0,
        false_positives: FalsePositives::default(),
        missed: 0,
        phases: Vec::new(),
        berth_right: (0, 0),
        noisy: (0, 0, 0, 0),
        events: 0,
        processing: std::time::Duration::ZERO,
        simulated: Duration::zero(),
        examples: Vec::new(),
    };
    let mut pairs: Vec<(&CallTruth, &PortCall)> = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        match role(t, cutoff) {
            Role::Scored => {
                card.scored += 1;
                card.noisy.0 += usize::from(t.dark_spells > 0);
                card.noisy.1 += usize::from(t.gps_jumps > 0);
                card.noisy.2 += usize::from(t.anchored_outside);
                card.noisy.3 += usize::from(t.berth_shifts > 0);
                match match_of_truth[i] {
                    Some(j) => pairs.push((t, &detected[j])),
                    None => {
                        card.missed += 1;
                        example(&mut card.examples, format!("missed: {t:?}"));
                    }
                }
            }
            Role::Aborted => card.aborted += 1,
            Role::Edge => {}
        }
    }
    card.true_positives = pairs.len();
    for (j, d) in detected.iter().enumerate() {
        match match_of_detected[j].map(|i| role(&truth[i], cutoff)) {
            Some(Role::Scored) => card.detected += 1,
            Some(Role::Edge) => {}
            Some(Role::Aborted) => {
                card.detected += 1;
                card.false_positives.aborted += 1;
                example(&mut card.examples, format!("aborted approach counted: {d:?}"));
            }
            None if d.arrived_at > cutoff => {}
            None => {
                card.detected += 1;
                match overlaps_any[j] {
                    Some(i) if role(&truth[i], cutoff) == Role::Edge => card.detected -= 1,
                    Some(i) => {
                        card.false_positives.split += 1;
                        example(&mut card.examples, format!("split: {d:?}\n  of {:?}", truth[i]));
                    }
                    None => {
                        card.false_positives.spurious += 1;
                        example(&mut card.examples, format!("spurious: {d:?}"));
                    }
                }
            }
        }
    }

    type Times = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    type Phase = (&'static str, fn(&CallTruth, &PortCall) -> Times);
    let time_phases: [Phase; 6] = [
        ("arrival", |t, d| (t.arrived_at, Some(d.arrived_at))),
        ("anchoring", |t, d| (t.anchored_at, d.anchored_at)),
        ("wait end", |t, d| (t.wait_end, d.anchored_at.map(|a| a + Duration::seconds(d.waiting_time_s)))),
        ("berthing", |t, d| (t.berthed_at, d.berthed_at)),
        ("unberthing", |t, d| (t.unberthed_at, d.unberthed_at)),
        ("departure", |t, d| (t.departed_at, d.departed_at)),
    ];
    for (name, times) in time_phases {
        let values = pairs.iter().map(|(t, d)| {
            let (t, d) = times(t, d);
            (t.map(|x| x.timestamp_millis()), d.map(|x| x.timestamp_millis()))
        });
        card.phases.push(phase_error(name, values, 1_000));
    }
    let waits = pairs.iter().map(|(t, d)| {
        let known = t.anchored_at.is_some() || d.anchored_at.is_some();
        (known.then_some(t.waiting_s), known.then_some(d.waiting_time_s))
    });
    card.phases.push(phase_error("waiting time", waits, 1));
    let services = pairs.iter().map(|(t, d)| {
        let known = t.berthed_at.is_some() || d.berthed_at.is_some();
        (known.then_some(t.service_s), known.then_some(d.service_time_s))
    });
    card.phases.push(phase_error("service time", services, 1));
    for (t, d) in &pairs {
        if t.berth.is_some() {
            card.berth_right.1 += 1;
            card.berth_right.0 += usize::from(t.berth.as_deref() == d.berth.as_deref());
        }
    }
    card
}

fn example(examples: &mut Vec<String>, text: String) {
    if examples.len() < 12 {
        examples.push(text);
    }
}

/// The error figures of one phase from (truth, detected) values in units
/// of `unit` per second.
fn phase_error(
    name: &'static str,
    values: impl Iterator<Item = (Option<i64>, Option<i64>)>,
    unit: i64,
) -> PhaseError {
    let (mut missing, mut extra) = (0, 0);
    let mut signed = Vec::new();
    for (t, d) in values {
        match (t, d) {
            (Some(t), Some(d)) => signed.push((d - t) / unit),
            (Some(_), None) => missing += 1,
            (None, Some(_)) => extra += 1,
            (None, None) => {}
        }
    }
    let mut abs: Vec<i64> = signed.iter().map(|e| e.abs()).collect();
    abs.sort_unstable();
    signed.sort_unstable();
    PhaseError {
        name,
        pairs: abs.len(),
        missing,
        extra,
        median_s: nearest_rank(&abs, 0.5),
        p90_s: nearest_rank(&abs, 0.9),
        max_s: abs.last().copied().unwrap_or(0),
        bias_s: nearest_rank(&signed, 0.5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::seconds(s)
    }

    fn visit(mmsi: u32, arrived: i64, departed: i64) -> CallTruth {
        CallTruth::open(mmsi, Some(at(arrived)), false).tap(|t| t.departed_at = Some(at(departed)))
    }

    trait Tap: Sized {
        fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
    }
    impl<T> Tap for T {
        fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
            f(&mut self);
            self
        }
    }

    fn call(mmsi: u32, arrived: i64, departed: i64) -> PortCall {
        PortCall::open(mmsi, at(arrived), true).tap(|c| c.departed_at = Some(at(departed)))
    }

    #[test]
    fn a_visit_split_in_two_is_one_hit_and_one_false_positive() {
        let truth = [visit(1, 100, 1_000), visit(2, 100, 1_000)];
        let detected = [call(1, 110, 500), call(1, 600, 1_010), call(2, 90, 990)];
        let card = score(&truth, &detected, at(2_000), at(3_000));
        assert_eq!((card.scored, card.true_positives, card.missed), (2, 2, 0));
        assert_eq!(card.false_positives, FalsePositives { split: 1, ..Default::default() });
        let arrival = card.phase("arrival").unwrap();
        // Errors 600 s (the later half matched: the larger overlap) and 10 s.
        assert_eq!((arrival.pairs, arrival.median_s, arrival.p90_s), (2, 10, 500));
    }

    #[test]
    fn aborted_approaches_and_edges_count_as_they_should() {
        let aborted = visit(1, 100, 200).tap(|t| t.aborted = true);
        let edge = CallTruth::open(2, None, false).tap(|t| t.departed_at = Some(at(300)));
        let late = visit(3, 100, 5_000);
        let truth = [aborted, edge, late];
        let detected = [call(1, 100, 200), call(2, 0, 300), call(3, 100, 5_000), call(4, 10, 20)];
        let card = score(&truth, &detected, at(2_000), at(6_000));
        assert_eq!((card.scored, card.aborted, card.detected), (0, 1, 2));
        assert_eq!(card.false_positives, FalsePositives { aborted: 1, spurious: 1, split: 0 });
        assert_eq!(card.precision(), 0.0);
        assert_eq!(card.recall(), 1.0);
    }

    #[test]
    fn a_missed_visit_lowers_recall_only() {
        let truth = [visit(1, 100, 1_000), visit(1, 2_000, 3_000)];
        let detected = [call(1, 100, 1_000)];
        let card = score(&truth, &detected, at(4_000), at(5_000));
        assert_eq!((card.true_positives, card.missed), (1, 1));
        assert_eq!((card.precision(), card.recall()), (1.0, 0.5));
    }
}
