//! When the stage checkpoints: the pacing rules, apart from the stage's I/O.
//!
//! A checkpoint exports and serializes every owned vessel's state, track
//! included, so its cost grows with the state, not with the batch (about
//! 130 ms for 5,000 vessels), and the stage processes nothing meanwhile.
//! Offsets are committed only up to a checkpoint, so its timing is also how
//! long acknowledged records wait for their commit. Three rules decide it:
//!
//! * **Periodic**: at least every `processors.checkpoint_interval`, however
//!   busy the stage is.
//! * **Idle, paced**: a source that keeps up with the broker leaves the
//!   stage idle after nearly every batch; a checkpoint each time made it the
//!   largest part of the pipeline's CPU (about half of it with 5,000
//!   vessels). When idle, the stage checkpoints once [`IDLE_GAP`] has passed
//!   since the last one, or [`COST_FACTOR`] times the last one's cost if
//!   that is longer (never longer than the interval), so checkpoints take
//!   at most about 1/20 of the stage's time under a steady trickle.
//! * **Quiet**: when no batch has come for [`QUIET`], the input has most
//!   likely stopped (the end of a burst, a catch-up done). The stage
//!   checkpoints then if its *budget* allows: checkpoint time saved up at
//!   1/[`COST_FACTOR`] of the wall clock, spent by every checkpoint, capped
//!   at 1/[`COST_FACTOR`] of the interval. Bug: with the two rules above
//!   only, the last records of a burst waited up to 20 times a checkpoint's
//!   cost after the previous checkpoint for their commit (2.2 s after a
//!   108 ms checkpoint in a logged 200,000-record bench run into Postgres),
//!   and the consumer lag the autoscaler reads stayed up as long.
//!
//! The budget keeps the long-run share at about 1/20 whatever the input
//! does (`sporadic_input_keeps_checkpoints_within_their_share` below); a
//! checkpoint costlier than the cap (a very large state) is never quiet and
//! falls back to the two other rules.
//!
//! No clock is read here: the stage passes the instants, and the tests
//! replay hours of input in microseconds.

use std::time::{Duration, Instant};

/// The shortest gap between two idle checkpoints.
pub(super) const IDLE_GAP: Duration = Duration::from_secs(1);

/// Checkpoints may take about one part in this many of the stage's time.
pub(super) const COST_FACTOR: u32 = 20;

/// No batch for this long: the input has most likely stopped. Longer than
/// the default batch linger (100 ms), so a steady trickle of lingering
/// batches is paced by the idle rule, not this one.
pub(super) const QUIET: Duration = Duration::from_millis(250);

/// The stage's checkpoint timing: see the [module docs](self).
#[derive(Debug)]
pub(super) struct Pacing {
    interval: Duration,
    /// When the last checkpoint ended (or the stage started).
    last: Instant,
    /// How long the last checkpoint took.
    last_cost: Duration,
    /// Checkpoint time saved up as of `last`, in seconds (negative: owed),
    /// within `-cap..=cap`.
    budget: f64,
}

impl Pacing {
    /// Pacing for a stage starting at `now`, its budget full.
    pub(super) fn new(interval: Duration, now: Instant) -> Pacing {
        let mut pacing = Pacing { interval, last: now, last_cost: Duration::ZERO, budget: 0.0 };
        pacing.budget = pacing.cap();
        pacing
    }

    /// The most checkpoint time that can be saved up: a twentieth of the
    /// interval (250 ms at the default 5 s).
    fn cap(&self) -> f64 {
        self.interval.as_secs_f64() / f64::from(COST_FACTOR)
    }

    /// The budget at `at`: what was left after the last checkpoint plus
    /// what accrued since, capped.
    fn budget_at(&self, at: Instant) -> f64 {
        let accrued = at.saturating_duration_since(self.last).as_secs_f64() / f64::from(COST_FACTOR);
        (self.budget + accrued).min(self.cap())
    }

    /// A checkpoint ran from `started` to `ended`: it is the new last one,
    /// and its cost is spent from the budget. The debt is bounded (a
    /// checkpoint that retried through an outage must not silence the quiet
    /// rule for hours).
    pub(super) fn checkpointed(&mut self, started: Instant, ended: Instant) {
        let cost = ended.saturating_duration_since(started);
        let cap = self.cap();
        self.budget = (self.budget_at(started) - cost.as_secs_f64()).clamp(-cap, cap);
        self.last = ended;
        self.last_cost = cost;
    }

    /// How long the last checkpoint took.
    pub(super) fn last_cost(&self) -> Duration {
        self.last_cost
    }

    /// After a batch, at `now`: whether to checkpoint at once (periodic, or
    /// idle and paced).
    pub(super) fn due_after_batch(&self, now: Instant, idle: bool) -> bool {
        let since = now.saturating_duration_since(self.last);
        since >= self.interval || (idle && since >= self.idle_gap())
    }

    /// For a stage idle since `idle_since` with acknowledged batches
    /// waiting: when to checkpoint if no batch comes first (the earlier of
    /// the paced and the quiet rule).
    pub(super) fn due_when_idle(&self, idle_since: Instant) -> Instant {
        let paced = self.last + self.idle_gap();
        match self.affordable() {
            Some(affordable) => paced.min((idle_since + QUIET).max(affordable)),
            None => paced,
        }
    }

    /// The idle rule's gap after the last checkpoint.
    fn idle_gap(&self) -> Duration {
        IDLE_GAP.max(self.last_cost.saturating_mul(COST_FACTOR)).min(self.interval)
    }

    /// When the budget covers another checkpoint as costly as the last,
    /// or `None` if it never will (a checkpoint costlier than the cap).
    fn affordable(&self) -> Option<Instant> {
        let cost = self.last_cost.as_secs_f64();
        if cost > self.cap() {
            return None;
        }
        let short = (cost - self.budget).max(0.0);
        Some(self.last + Duration::from_secs_f64(short * f64::from(COST_FACTOR)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(5);
    const COST: Duration = Duration::from_millis(130);

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn idle_checkpoints_are_paced_by_their_cost_within_the_interval() {
        let t0 = Instant::now();
        let after = |cost: Duration, interval: Duration| {
            let mut pacing = Pacing::new(interval, t0);
            pacing.checkpointed(t0, t0 + cost);
            pacing.idle_gap()
        };
        assert_eq!(after(Duration::ZERO, INTERVAL), Duration::from_secs(1), "cheap: once a second");
        assert_eq!(after(ms(100), INTERVAL), Duration::from_secs(2), "20x the cost");
        assert_eq!(after(Duration::from_secs(3), INTERVAL), INTERVAL, "never past the interval");
        assert_eq!(after(Duration::ZERO, ms(200)), ms(200), "a shorter interval wins");
    }

    /// Bug: the last records of a burst waited 20 times a checkpoint's cost
    /// after the previous checkpoint for their commit (2.6 s here).
    #[test]
    fn a_burst_ends_with_a_prompt_checkpoint() {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(INTERVAL, t0);
        // A saturated burst: only the periodic rule fires.
        let mut now = t0;
        for _ in 0..3 {
            now += INTERVAL;
            assert!(pacing.due_after_batch(now, false));
            pacing.checkpointed(now, now + COST);
            now += COST;
        }
        // The input stops 200 ms after the last checkpoint.
        let idle_since = now + ms(200);
        assert!(!pacing.due_after_batch(idle_since, true), "too soon for the paced rule");
        assert_eq!(pacing.due_when_idle(idle_since), idle_since + QUIET);
    }

    #[test]
    fn a_checkpoint_costlier_than_the_cap_is_never_quiet() {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(INTERVAL, t0);
        pacing.checkpointed(t0, t0 + ms(300));
        let last = t0 + ms(300);
        assert_eq!(pacing.due_when_idle(last + ms(10)), last + INTERVAL);
    }

    #[test]
    fn an_outage_long_checkpoint_leaves_a_bounded_debt() {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(INTERVAL, t0);
        let ended = t0 + Duration::from_secs(60);
        pacing.checkpointed(t0, ended);
        pacing.checkpointed(ended, ended + COST);
        let last = ended + COST;
        // Owed at most the cap (250 ms): quiet again once 20 times the cap
        // plus the cost has passed, here capped by the paced rule.
        let due = pacing.due_when_idle(last);
        assert!(due <= last + INTERVAL, "{:?}", due - last);
    }

    /// Replays `gap`-spaced batches (each taking `work`) for `span` through
    /// the stage's rules, the way `Stage::run` applies them, and returns
    /// the share of the time spent checkpointing and the longest wait of an
    /// acknowledged batch for its checkpoint.
    fn replay(gap: Duration, work: Duration, span: Duration) -> (f64, Duration) {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(INTERVAL, t0);
        let (mut now, mut next_batch) = (t0, t0);
        let (mut spent, mut longest) = (Duration::ZERO, Duration::ZERO);
        let mut waiting_since: Option<Instant> = None;
        let mut checkpoint = |pacing: &mut Pacing, at: Instant, waiting: &mut Option<Instant>| {
            pacing.checkpointed(at, at + COST);
            spent += COST;
            if let Some(w) = waiting.take() {
                longest = longest.max(at - w);
            }
            at + COST
        };
        while now < t0 + span {
            // Idle until the next batch, unless a checkpoint is due first.
            if waiting_since.is_some() {
                let due = pacing.due_when_idle(now);
                if due < next_batch {
                    now = checkpoint(&mut pacing, due, &mut waiting_since);
                }
            }
            now = now.max(next_batch) + work;
            next_batch += gap;
            waiting_since.get_or_insert(now);
            let idle = next_batch > now;
            if pacing.due_after_batch(now, idle) {
                now = checkpoint(&mut pacing, now, &mut waiting_since);
            }
        }
        (spent.as_secs_f64() / span.as_secs_f64(), longest)
    }

    #[test]
    fn a_steady_trickle_keeps_checkpoints_within_their_share() {
        // Lingering batches every 100 ms, each 5 ms of work.
        let (share, longest) = replay(ms(100), ms(5), Duration::from_secs(3600));
        assert!(share <= 0.055, "checkpoints took {share:.3} of the time");
        assert!(longest <= INTERVAL, "a batch waited {longest:?}");
    }

    #[test]
    fn sporadic_input_keeps_checkpoints_within_their_share() {
        // A batch every 300 ms (past QUIET, so every gap is quiet).
        let (share, longest) = replay(ms(300), ms(5), Duration::from_secs(3600));
        assert!(share <= 0.055, "checkpoints took {share:.3} of the time");
        assert!(longest <= INTERVAL, "a batch waited {longest:?}");
    }
}
