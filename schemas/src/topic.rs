//! [`Topic`]: a Kafka topic's name, interned.
//!
//! Every event carries its record's topic (in its [`Origin`](crate::Origin))
//! from the poll thread, through the batch, to the sinks and the dead-letter
//! producer. As an `Arc<str>`, that was two reference-count increments on
//! the poll thread per record (the partition key and the origin) and a
//! decrement on whichever worker dropped the batch: one shared counter, its
//! cache line moving between cores with every record. A `Topic` is a
//! pointer to a name made once per process and never freed, so copying one
//! touches nothing shared, and comparing or hashing one is a pointer's work.
//!
//! The names are the topics a process was configured with (and those its
//! tests make up), so what is kept is a handful of short strings. Written
//! here rather than taken from an interning crate (`internment`, `ustr`):
//! those keep arenas and hash tables sized for millions of strings, and
//! this needs a lookup table of a few names behind a lock taken only when a
//! topic is named, never per record.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{Mutex, OnceLock};

/// A topic name, interned: `Copy`, one pointer wide, equal to another
/// exactly when the names are equal.
#[derive(Clone, Copy)]
pub struct Topic(&'static String);

/// Every name made so far. Only naming a topic ([`Topic::new`]) looks here.
fn names() -> &'static Mutex<HashMap<&'static str, Topic>> {
    static NAMES: OnceLock<Mutex<HashMap<&'static str, Topic>>> = OnceLock::new();
    NAMES.get_or_init(Mutex::default)
}

impl Topic {
    /// The topic called `name`: the same pointer for the same name, every
    /// time, in every thread.
    pub fn new(name: &str) -> Topic {
        let mut names = names().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&topic) = names.get(name) {
            return topic;
        }
        let kept: &'static String = Box::leak(Box::new(name.to_owned()));
        names.insert(kept.as_str(), Topic(kept));
        Topic(kept)
    }

    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0.as_str()
    }
}

impl Deref for Topic {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// Names are interned, so equal names are the same pointer.
impl PartialEq for Topic {
    fn eq(&self, other: &Topic) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Topic {}

/// By address, like equality (the same name is always the same address).
impl Hash for Topic {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(self.0, state);
    }
}

/// By name (which agrees with equality: equal names are one pointer).
impl Ord for Topic {
    fn cmp(&self, other: &Topic) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Topic {
    fn partial_cmp(&self, other: &Topic) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<str> for Topic {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Topic {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Topic {
    fn from(name: &str) -> Topic {
        Topic::new(name)
    }
}

#[cfg(test)]
mod tests {
    use super::Topic;

    #[test]
    fn the_same_name_is_the_same_topic_from_any_thread() {
        let here = Topic::new("ais.positions");
        let there = std::thread::spawn(|| Topic::new(&String::from("ais.positions"))).join().unwrap();
        assert!(std::ptr::eq(here.as_str(), there.as_str()));
        assert_eq!(here, there);
        assert_ne!(here, Topic::new("ais.static"));
        assert_eq!(here, "ais.positions");
        assert_eq!(here.to_string(), "ais.positions");
        assert_eq!(format!("{here:?}"), "\"ais.positions\"");
    }

    #[test]
    fn a_topic_is_one_pointer_wide() {
        assert_eq!(size_of::<Topic>(), size_of::<usize>());
    }
}
