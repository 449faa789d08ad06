//! The `_bulk` protocol: encoded items (an action line and a document line
//! each, remembering which input they came from), their split into requests
//! by document count and size, and the per-item statuses of the answer.
//!
//! `_bulk` answers 200 even when items fail, so every item's status counts:
//! 2xx, and 409 (already stored in this or a newer version: a replay), are
//! done; 429 and 5xx are worth sending again; any other 4xx is the
//! document's fault, refused with the reason.

use porttrack_schemas::{Event, Sourced};
use serde::Deserialize;

use super::docs::Encoder;
use crate::{Derived, SinkError};

/// One encoded bulk action: its lines, and which input it came from.
#[derive(Debug)]
pub(super) struct Item {
    /// Index into the write's input, for [`WriteOutcome::rejected`](crate::WriteOutcome::rejected).
    pub(super) input: usize,
    /// The action line and the source line, each ending in `\n`.
    pub(super) lines: Vec<u8>,
}

/// One item per record, in order.
pub(super) fn event_items(enc: &Encoder<'_>, records: &[Sourced<Event>]) -> Result<Vec<Item>, SinkError> {
    let mut items = Vec::with_capacity(records.len());
    for (input, r) in records.iter().enumerate() {
        let mut lines = Vec::with_capacity(384);
        enc.event(r, &mut lines)?;
        items.push(Item { input, lines });
    }
    Ok(items)
}

/// One item per derived row, kind after kind (`input` counts across kinds).
pub(super) fn derived_items(enc: &Encoder<'_>, d: &Derived) -> Result<Vec<Item>, SinkError> {
    let mut items = Vec::with_capacity(d.len());
    let mut push = |f: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), SinkError>| {
        let mut lines = Vec::with_capacity(512);
        f(&mut lines)?;
        items.push(Item { input: items.len(), lines });
        Ok::<(), SinkError>(())
    };
    for e in &d.zone_events {
        push(&mut |out| enc.zone_event(e, out))?;
    }
    for c in &d.port_calls {
        push(&mut |out| enc.port_call(c, out))?;
    }
    for a in &d.anomalies {
        push(&mut |out| enc.anomaly(a, out))?;
    }
    for w in &d.weather_alerts {
        push(&mut |out| enc.weather_alert(w, out))?;
    }
    for p in &d.congestion {
        push(&mut |out| enc.partial(p, out))?;
    }
    Ok(items)
}

/// One request's body: the items' lines, one after another.
///
/// Copied slice by slice into a body sized once: collecting the lines byte
/// by byte (`flat_map`) was the largest single cost of encoding a request
/// (17% in the `bulk_body` bench's profile).
pub(super) fn body<'i>(items: impl IntoIterator<Item = &'i Item> + Clone) -> Vec<u8> {
    let len = items.clone().into_iter().map(|i| i.lines.len()).sum();
    let mut body = Vec::with_capacity(len);
    for i in items {
        body.extend_from_slice(&i.lines);
    }
    body
}

/// Splits `items` into requests of at most `max_docs` items and `max_bytes`
/// bytes (a larger item still goes, alone).
pub(super) fn chunks(items: &[Item], max_docs: usize, max_bytes: usize) -> Vec<&[Item]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, item) in items.iter().enumerate() {
        let full = i - start >= max_docs || (i > start && bytes + item.lines.len() > max_bytes);
        if full {
            chunks.push(&items[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += item.lines.len();
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    chunks
}

/// What one `_bulk` item's status means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    /// Stored (2xx), or already stored in this or a newer version (409).
    Done,
    /// Overloaded or failing (429, 5xx): send again.
    Retry,
    /// The document's fault: the reason, for the dead-letter topic.
    Refused(String),
}

#[derive(Debug, Deserialize)]
struct BulkResponse {
    items: Vec<BulkItemWrapper>,
}

/// An item is `{"<op>": {...}}` with op one of index/create/update/delete.
#[derive(Debug, Deserialize)]
struct BulkItemWrapper {
    #[serde(alias = "create", alias = "update", alias = "delete")]
    index: BulkItem,
}

#[derive(Debug, Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default)]
    error: Option<BulkError>,
}

#[derive(Debug, Deserialize)]
struct BulkError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Parses a `_bulk` response body into one status per item, in order.
pub fn parse_bulk_response(body: &[u8]) -> Result<Vec<ItemStatus>, SinkError> {
    let parsed: BulkResponse = serde_json::from_slice(body)
        .map_err(|e| SinkError::Transient(format!("unreadable _bulk response: {e}")))?;
    Ok(parsed
        .items
        .into_iter()
        .map(|w| {
            let item = w.index;
            match item.status {
                200..=299 | 409 => ItemStatus::Done,
                429 | 500..=599 => ItemStatus::Retry,
                status => ItemStatus::Refused(match item.error {
                    Some(e) => format!(
                        "elasticsearch {status}: {}: {}",
                        e.kind.as_deref().unwrap_or("error"),
                        e.reason.as_deref().unwrap_or("no reason given")
                    ),
                    None => format!("elasticsearch {status}"),
                }),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;

    #[test]
    fn requests_are_split_by_docs_and_bytes() {
        let enc = Encoder::new("porttrack", false);
        let records: Vec<_> = (0..10).map(|i| record(244_123_456, 0, i)).collect(); // equal sizes
        let items = event_items(&enc, &records).unwrap();
        let sizes = |docs, bytes| chunks(&items, docs, bytes).iter().map(|c| c.len()).collect::<Vec<_>>();
        assert_eq!(sizes(4, usize::MAX), vec![4, 4, 2]);
        let one = items[0].lines.len();
        assert_eq!(sizes(usize::MAX, one * 3 + 1), vec![3, 3, 3, 1]);
        // A document larger than the limit still goes, alone.
        assert_eq!(sizes(usize::MAX, 1).len(), 10);
    }

    #[test]
    fn item_statuses() {
        let body = br#"{"took":1,"errors":true,"items":[
            {"index":{"status":201}},
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
            {"index":{"status":429}},
            {"index":{"status":503}},
            {"index":{"status":400,"error":{"type":"strict_dynamic_mapping_exception","reason":"no field x"}}}]}"#;
        let got = parse_bulk_response(body).unwrap();
        assert_eq!(got[..4], [ItemStatus::Done, ItemStatus::Done, ItemStatus::Retry, ItemStatus::Retry]);
        assert_eq!(
            got[4],
            ItemStatus::Refused("elasticsearch 400: strict_dynamic_mapping_exception: no field x".into())
        );
    }

    /// What the engine answers with the sink's `filter_path`: only
    /// `items` (no `took`, no `errors`), each with its status and, when it
    /// failed, its error.
    #[test]
    fn item_statuses_of_a_filtered_response() {
        let body = br#"{"items":[{"index":{"status":201}},{"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [cog]","caused_by":{"type":"number_format_exception"}}}}]}"#;
        let got = parse_bulk_response(body).unwrap();
        assert_eq!(got[0], ItemStatus::Done);
        assert_eq!(
            got[1],
            ItemStatus::Refused(
                "elasticsearch 400: mapper_parsing_exception: failed to parse field [cog]".into()
            )
        );
    }
}
