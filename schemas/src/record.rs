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
    /// Which event of the record this is, when one record yields several
    /// (an NMEA record holding several sentences); 0 otherwise.
    pub index: u16,
}

impl Origin {
    /// The origin of the first (usually only) event of the record at these coordinates.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32, offset: i64) -> Self {
        Origin { topic: topic.into(), partition, offset, index: 0 }
    }

    /// The same record's `index`th event.
    #[must_use]
    pub fn with_index(mut self, index: u16) -> Self {
        self.index = index;
        self
    }

    /// A stable, unique document id for the event at these coordinates.
    ///
    /// ```
    /// use porttrack_schemas::Origin;
    /// assert_eq!(Origin::new("ais.positions", 3, 42).document_id(), "ais.positions-3-42");
    /// assert_eq!(Origin::new("ais.nmea", 0, 7).with_index(2).document_id(), "ais.nmea-0-7-2");
    /// ```
    pub fn document_id(&self) -> String {
        let mut id = String::with_capacity(self.topic.len() + 24);
        self.write_document_id(&mut id);
        id
    }

    /// Appends [`document_id`](Self::document_id) to `out`, without
    /// allocating (the search sink writes one per document; `format!` was a
    /// visible share of encoding them).
    pub fn write_document_id(&self, out: &mut String) {
        let mut n = itoa::Buffer::new();
        out.push_str(&self.topic);
        out.push('-');
        out.push_str(n.format(self.partition));
        out.push('-');
        out.push_str(n.format(self.offset));
        if self.index != 0 {
            out.push('-');
            out.push_str(n.format(self.index));
        }
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
