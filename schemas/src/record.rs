use std::sync::Arc;

/// Where a record came from: its Kafka coordinates.
///
/// The coordinates are the record's identity everywhere downstream: the
/// Elasticsearch document id and the dead-letter headers are derived from them,
/// so a replay of the same offsets lands on the same documents and rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Source topic.
    pub topic: Arc<str>,
    /// Source partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
}

impl Origin {
    /// A stable, unique document id for the record at these coordinates.
    ///
    /// ```
    /// let origin = porttrack_schemas::Origin { topic: "ais.positions".into(), partition: 3, offset: 42 };
    /// assert_eq!(origin.document_id(), "ais.positions-3-42");
    /// ```
    pub fn document_id(&self) -> String {
        format!("{}-{}-{}", self.topic, self.partition, self.offset)
    }
}

/// A decoded event together with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    /// Where the event was read.
    pub origin: Origin,
    /// The event.
    pub event: T,
}
