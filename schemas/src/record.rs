use crate::Topic;

/// Where a record came from: its Kafka coordinates.
///
/// The coordinates are the record's identity everywhere downstream: the
/// Elasticsearch document id and the dead-letter headers are derived from them,
/// so a replay of the same offsets lands on the same documents and rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Source topic.
    pub topic: Topic,
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
    pub fn new(topic: impl Into<Topic>, partition: i32, offset: i64) -> Self {
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
        write_document_id(out, &self.topic, self.partition, self.offset, self.index);
    }

    /// [`document_id`](Self::document_id) of coordinates read back from a
    /// store, whose topic is data: naming it a [`Topic`] would keep the
    /// name for the life of the process.
    ///
    /// ```
    /// use porttrack_schemas::Origin;
    /// assert_eq!(Origin::document_id_of("ais.nmea", 0, 7, 2), Origin::new("ais.nmea", 0, 7).with_index(2).document_id());
    /// ```
    pub fn document_id_of(topic: &str, partition: i32, offset: i64, index: u16) -> String {
        let mut id = String::with_capacity(topic.len() + 24);
        write_document_id(&mut id, topic, partition, offset, index);
        id
    }
}

fn write_document_id(out: &mut String, topic: &str, partition: i32, offset: i64, index: u16) {
    let mut n = itoa::Buffer::new();
    out.push_str(topic);
    out.push('-');
    out.push_str(n.format(partition));
    out.push('-');
    out.push_str(n.format(offset));
    if index != 0 {
        out.push('-');
        out.push_str(n.format(index));
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
