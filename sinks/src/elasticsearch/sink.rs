//! [`ElasticsearchSink`]: the [`Sink`] implementation, and the setup calls
//! (templates, ILM policy, refresh). A write encodes one item per input,
//! splits the items into `_bulk` requests sent `concurrency` at a time, and
//! retries each request's 429/5xx items with a [`RetryPolicy`].

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use porttrack_schemas::{Event, Sourced};

use super::bulk::{self, Item, ItemStatus, parse_bulk_response};
use super::client::Client;
use super::docs::Encoder;
use super::{ElasticsearchConfig, Family, family};
use crate::retry::{Backoff, Bound, RetryLogic, RetryMetric, RetryPolicy};
use crate::{Derived, Sink, SinkError, WriteOutcome};

/// Indexes events and processor outputs through `_bulk`.
#[derive(Debug, Clone)]
pub struct ElasticsearchSink {
    client: Client,
    prefix: String,
    max_item_retries: u32,
    batch_max_docs: usize,
    batch_max_bytes: usize,
    concurrency: usize,
    ilm: bool,
    ilm_delete_after: Duration,
    backoff: Backoff,
}

/// What the items of one `_bulk` request came to.
#[derive(Debug, Default)]
struct Outcome {
    /// (input index, reason) of items refused for good.
    rejected: Vec<(usize, String)>,
}

/// Why one round of a request's items did not settle them all.
#[derive(Debug)]
enum RoundError {
    /// The request failed as a whole (the write fails; the pipeline retries it).
    Request(SinkError),
    /// This many items answered 429/5xx and wait for the next round.
    ItemsPending(usize),
}

impl std::fmt::Display for RoundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoundError::Request(e) => e.fmt(f),
            RoundError::ItemsPending(n) => write!(f, "{n} _bulk items answered 429/5xx"),
        }
    }
}

/// Only pending items are retried here, counted one per item.
struct ItemRetries;

impl RetryLogic<RoundError> for ItemRetries {
    fn is_retriable(&self, error: &RoundError) -> bool {
        matches!(error, RoundError::ItemsPending(_))
    }

    fn items(&self, error: &RoundError) -> u64 {
        match error {
            RoundError::ItemsPending(n) => *n as u64,
            RoundError::Request(_) => 0,
        }
    }
}

/// A request's items between rounds.
#[derive(Debug, Default)]
struct Round<'a> {
    /// Items still to send.
    pending: Vec<&'a Item>,
    /// Items refused for good so far.
    outcome: Outcome,
}

impl ElasticsearchSink {
    /// A sink for the cluster at `config.url`. Does not connect yet.
    pub fn new(config: &ElasticsearchConfig) -> Result<Self, SinkError> {
        Ok(ElasticsearchSink {
            client: Client::new(config)?,
            prefix: config.index_prefix.clone(),
            max_item_retries: config.max_item_retries,
            batch_max_docs: config.batch_max_docs.max(1),
            batch_max_bytes: config.batch_max_bytes.max(1),
            concurrency: config.concurrency.max(1),
            ilm: config.ilm,
            ilm_delete_after: config.ilm_delete_after,
            backoff: Backoff::default(),
        })
    }

    /// Overrides the pacing of item retries (tests use short waits).
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The ILM policy body (with `ilm`).
    pub fn ilm_policy(&self) -> serde_json::Value {
        family::ilm_policy(self.ilm_delete_after)
    }

    /// The index template of `family`.
    pub fn template(&self, family: Family) -> serde_json::Value {
        family::template(&self.prefix, self.ilm, family)
    }

    /// Installs (or updates) the ILM policy (with `ilm`) and the index
    /// template of every [`Family`]. Idempotent; run at start.
    ///
    /// A template only shapes indices created after it, and today's daily
    /// index already exists when a new release adds optional fields to a
    /// family (the inland fields of `static`): with `dynamic: strict` its
    /// documents would be refused until midnight. So the family's mappings
    /// are also put to its existing indices (`PUT {prefix}-{family}-*/_mapping?allow_no_indices=true`,
    /// additive; matching no index is fine). With `ilm`, data
    /// streams take new fields at their next rollover.
    pub async fn install_template(&self) -> Result<(), SinkError> {
        if self.ilm {
            self.client.put_json(&format!("_ilm/policy/{}-events", self.prefix), &self.ilm_policy()).await?;
        }
        for family in Family::ALL {
            let name = format!("{}-{}", self.prefix, family.name());
            self.client.put_json(&format!("_index_template/{name}"), &self.template(family)).await?;
            if !(self.ilm && family.is_append_only()) {
                let mappings: serde_json::Value = serde_json::from_str(family.mappings())
                    .map_err(|e| SinkError::Permanent(format!("{} mappings: {e}", family.name())))?;
                self.client.put_json(&format!("{name}-*/_mapping?allow_no_indices=true"), &mappings).await?;
            }
        }
        Ok(())
    }

    /// Makes recent writes visible to search (tests and tools; the pipeline never calls it).
    pub async fn refresh(&self) -> Result<(), SinkError> {
        self.client.post(&format!("{}-*/_refresh", self.prefix), "refresh").await
    }

    /// The NDJSON `_bulk` body for `records`, as one request (benchmarks and tests).
    pub fn bulk_body(&self, records: &[Sourced<Event>]) -> Result<Vec<u8>, SinkError> {
        let items = bulk::event_items(&self.encoder(), records)?;
        Ok(bulk::body(&items))
    }

    fn encoder(&self) -> Encoder<'_> {
        Encoder::new(&self.prefix, self.ilm)
    }

    /// Sends `items` in chunks, `concurrency` at a time.
    async fn send_items(&self, items: &[Item]) -> Result<Outcome, SinkError> {
        let chunks = bulk::chunks(items, self.batch_max_docs, self.batch_max_bytes);
        // Boxed so the stream's item type names no closure lifetime (a
        // higher-ranked `Send` bound the compiler cannot prove otherwise).
        let requests: Vec<BoxFuture<'_, Result<Outcome, SinkError>>> =
            chunks.into_iter().map(|c| self.send_chunk(c).boxed()).collect();
        let results: Vec<Result<Outcome, SinkError>> =
            futures::stream::iter(requests).buffer_unordered(self.concurrency).collect().await;
        let mut outcome = Outcome::default();
        for r in results {
            outcome.rejected.extend(r?.rejected);
        }
        outcome.rejected.sort_unstable_by_key(|(i, _)| *i);
        Ok(outcome)
    }

    /// One chunk until every item succeeded or was refused for good: the
    /// 429/5xx items are sent again, up to `max_item_retries` times, counted
    /// in `porttrack_sink_item_retries_total{sink="elasticsearch"}`.
    async fn send_chunk(&self, chunk: &[Item]) -> Result<Outcome, SinkError> {
        let round = Mutex::new(Round { pending: chunk.iter().collect(), outcome: Outcome::default() });
        let policy = RetryPolicy {
            label: "elasticsearch",
            what: "_bulk items",
            bound: Bound::retries(self.max_item_retries),
            backoff: self.backoff,
            metric: RetryMetric::ItemRetries,
        };
        match policy.retry(ItemRetries, |_| self.send_round(&round)).await {
            Ok(()) => Ok(round.into_inner().unwrap_or_else(PoisonError::into_inner).outcome),
            Err(RoundError::Request(e)) => Err(e),
            Err(RoundError::ItemsPending(n)) => Err(SinkError::Transient(format!(
                "{n} _bulk items still failing after {} retries",
                self.max_item_retries
            ))),
        }
    }

    /// Sends the pending items of `round` once; keeps the ones to send again.
    async fn send_round(&self, round: &Mutex<Round<'_>>) -> Result<(), RoundError> {
        let pending = std::mem::take(&mut round.lock().unwrap_or_else(PoisonError::into_inner).pending);
        if pending.is_empty() {
            return Ok(());
        }
        let body = bulk::body(pending.iter().copied());
        let bytes = self.client.bulk(body).await.map_err(RoundError::Request)?;
        let statuses = parse_bulk_response(&bytes).map_err(RoundError::Request)?;
        if statuses.len() != pending.len() {
            return Err(RoundError::Request(SinkError::Transient(format!(
                "_bulk answered {} items for {} actions",
                statuses.len(),
                pending.len()
            ))));
        }
        let mut round = round.lock().unwrap_or_else(PoisonError::into_inner);
        for (item, status) in pending.into_iter().zip(statuses) {
            match status {
                ItemStatus::Done => {}
                ItemStatus::Retry => round.pending.push(item),
                ItemStatus::Refused(reason) => round.outcome.rejected.push((item.input, reason)),
            }
        }
        match round.pending.len() {
            0 => Ok(()),
            n => Err(RoundError::ItemsPending(n)),
        }
    }

    async fn write_events(&self, records: &[Sourced<Event>]) -> Result<WriteOutcome, SinkError> {
        let items = bulk::event_items(&self.encoder(), records)?;
        let outcome = self.send_items(&items).await?;
        Ok(WriteOutcome { rejected: outcome.rejected })
    }

    async fn write_derived_docs(&self, batch: &Derived) -> Result<(), SinkError> {
        let items = bulk::derived_items(&self.encoder(), batch)?;
        let outcome = self.send_items(&items).await?;
        if let Some((_, reason)) = outcome.rejected.first() {
            // Derived rows cannot be dead-lettered: a refusal is our mapping's bug.
            return Err(SinkError::Permanent(format!(
                "{} derived documents refused, first: {reason}",
                outcome.rejected.len()
            )));
        }
        Ok(())
    }
}

impl Sink for ElasticsearchSink {
    fn name(&self) -> &'static str {
        "elasticsearch"
    }

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        self.write_events(records).boxed()
    }

    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        self.write_derived_docs(batch).boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        self.client.ping().boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;

    fn sink(config: ElasticsearchConfig) -> ElasticsearchSink {
        ElasticsearchSink::new(&ElasticsearchConfig { gzip: false, ..config }).unwrap()
    }

    #[test]
    fn bulk_body_uses_event_day_indices_and_coordinate_ids() {
        let sink = sink(ElasticsearchConfig::default());
        let records = vec![record(244_123_456, 0, 7)];
        let body = String::from_utf8(sink.bulk_body(&records).unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["index"]["_id"], "ais.positions-0-7");
        assert_eq!(lines[0]["index"]["_index"], "porttrack-positions-2026.09.21");
        assert_eq!(lines[1]["location"]["lat"], 51.9);
        assert_eq!(lines[1]["mmsi"], "244123456");
    }

    #[test]
    fn bulk_body_is_byte_for_byte_the_documented_form() {
        let sink = sink(ElasticsearchConfig::default());
        let mut nmea = record(244_123_456, 1, 9);
        nmea.origin = nmea.origin.with_index(2);
        let body = String::from_utf8(sink.bulk_body(&[nmea]).unwrap()).unwrap();
        assert_eq!(
            body,
            "{\"index\":{\"_index\":\"porttrack-positions-2026.09.21\",\"_id\":\"ais.positions-0-9-2\"}}\n\
             {\"@timestamp\":\"2026-09-21T14:13:21Z\",\"mmsi\":\"244123456\",\"location\":{\"lat\":51.9001,\"lon\":4.1},\
             \"sog\":10.5,\"cog\":90.0,\"nav_status\":0,\
             \"source\":{\"topic\":\"ais.positions\",\"partition\":0,\"offset\":9,\"index\":2}}\n"
        );
    }

    /// The encoder keeps the last index name: documents of other days, in
    /// any order, must still land in their own day's index.
    #[test]
    fn each_document_goes_to_its_own_days_index_in_any_order() {
        let sink = sink(ElasticsearchConfig::default());
        let day = 86_400;
        let records = [record(244_123_456, 0, 1), record(244_123_456, day, 2), record(244_123_456, 1, 3)];
        let body = String::from_utf8(sink.bulk_body(&records).unwrap()).unwrap();
        let indices: Vec<String> = body
            .lines()
            .step_by(2)
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["index"]["_index"].to_string())
            .collect();
        assert_eq!(
            indices,
            [
                "\"porttrack-positions-2026.09.21\"",
                "\"porttrack-positions-2026.09.22\"",
                "\"porttrack-positions-2026.09.21\""
            ]
        );
    }

    #[test]
    fn data_stream_mode_creates_into_the_stream() {
        let sink = sink(ElasticsearchConfig { ilm: true, ..Default::default() });
        let body = String::from_utf8(sink.bulk_body(&[record(244_123_456, 0, 7)]).unwrap()).unwrap();
        let action: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
        assert_eq!(action["create"]["_index"], "porttrack-positions");
        let t = sink.template(Family::Positions);
        assert_eq!(t["index_patterns"][0], "porttrack-positions");
        assert_eq!(t["template"]["settings"]["index.lifecycle.name"], "porttrack-events");
        assert!(t["data_stream"].is_object());
        // Port calls are updated in place: never a data stream.
        assert!(sink.template(Family::PortCalls).get("data_stream").is_none());
        assert_eq!(sink.ilm_policy()["policy"]["phases"]["delete"]["min_age"], "30d");
    }

    #[test]
    fn only_pending_items_are_retried_and_counted_per_item() {
        assert!(ItemRetries.is_retriable(&RoundError::ItemsPending(3)));
        assert_eq!(ItemRetries.items(&RoundError::ItemsPending(3)), 3);
        assert!(!ItemRetries.is_retriable(&RoundError::Request(SinkError::Transient("down".into()))));
    }
}
