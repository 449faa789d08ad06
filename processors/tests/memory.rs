//! Memory budget of a tracked vessel. The processor keeps one
//! [`VesselRoute`] per MMSI, a million of them at global scale, so a few
//! bytes more per route are megabytes per instance. These tests are not
//! timed and do not read the process's memory: they pin the sizes that
//! `benches/memory.rs` measures in RSS (issue 13), so that growth is a
//! decision, not an accident.
#![allow(clippy::unwrap_used)]

mod support;

use porttrack_processors::{Fix, Geography, Port, PortCall, PortConfig, StaticData, VesselRoute};
use support::{Feed, ROUTES};

/// The inline size of a route: what every tracked vessel pays before any of
/// its heap data. Rarely present parts (static data, open and last port
/// calls, event ids, services outside a call) are boxed so that a vessel
/// without them does not pay for them, and so are the fields of states most
/// vessels never reach (`route/cold.rs`). The budget is a jemalloc size
/// class: the boxed route takes 256 bytes up to 256, and 320 from 257.
#[test]
fn vessel_route_stays_within_the_memory_budget() {
    let route = size_of::<VesselRoute>();
    assert!(route <= 256, "VesselRoute is {route} B inline, budget 256 B (a jemalloc size class)");
    let fix = size_of::<Fix>();
    assert!(fix <= 48, "Fix is {fix} B, budget 48 B: the route keeps its last one inline");
    // Boxed, so these may grow without every vessel paying for it; the
    // route's budget would catch them being unboxed.
    assert!(size_of::<StaticData>() > size_of::<usize>() && size_of::<PortCall>() > size_of::<usize>());
}

/// A full `VecDeque` doubles its capacity; the fix times must not reserve
/// room for more than `track_len` (the track of whole fixes they replaced
/// once held 64 slots to keep 32). Short lists, below the first growth step
/// of four, included.
#[test]
fn fix_times_never_reserve_more_than_track_len() {
    for track_len in [1, 2, 3, 5, PortConfig::default().track_len] {
        let port = Port::new(Geography::rotterdam(), PortConfig { track_len, ..PortConfig::default() });
        let mut feed = Feed::new(&port, 244_000_001);
        let berth = *ROUTES[0].last().unwrap();
        for i in 0..(track_len * 3) {
            feed.report(berth, 0.0, 180);
            let (len, capacity) =
                port.with_vessel_ref(feed.mmsi, |v| (v.fix_times.len(), v.fix_times.capacity())).unwrap();
            assert_eq!(len, (i + 1).min(track_len));
            assert!(
                capacity <= track_len,
                "after {} fixes: capacity {capacity} > track_len {track_len}",
                i + 1
            );
        }
    }
}

/// Late fixes slot into full fix times without growing them either, and
/// they keep the `track_len` newest times in order.
#[test]
fn late_fixes_keep_fix_times_at_track_len() {
    let cfg = PortConfig { track_len: 4, ..PortConfig::default() };
    let port = Port::new(Geography::rotterdam(), cfg);
    let mut feed = Feed::new(&port, 244_000_002);
    let berth = *ROUTES[0].last().unwrap();
    let start = feed.t;
    for _ in 0..6 {
        feed.report(berth, 0.0, 180);
    }
    feed.t = start + chrono::Duration::seconds(630);
    feed.report(berth, 0.0, 0);
    feed.t = start + chrono::Duration::seconds(10);
    feed.report(berth, 0.0, 0);
    port.with_vessel_ref(feed.mmsi, |v| {
        assert_eq!(v.fix_times.len(), 4);
        assert!(v.fix_times.capacity() <= 4, "capacity {}", v.fix_times.capacity());
        let secs: Vec<i64> = v.fix_times.iter().map(|at| (at - start).num_seconds()).collect();
        // Fixes at 0, 180, …, 900 s keep 360..=900; 630 s pushes out 360 s;
        // 10 s is older than everything kept and stays out.
        assert_eq!(secs, [540, 630, 720, 900]);
    })
    .unwrap();
}

/// The open call is kept with every vessel in port (three in four of the
/// memory bench's fleet). Its id is made when asked for, not stored
/// (`call_id.rs`), its berth is a `Box<str>` (16 bytes inline instead of
/// 24) and its services a `ThinVec` (8 instead of 24). The budget is a
/// jemalloc size class: a boxed call takes 128 bytes up to 128, and 160
/// from 129.
#[test]
fn an_open_call_stays_within_its_size_class() {
    let call = PortCall::open(244_000_003, chrono::DateTime::UNIX_EPOCH, true);
    assert_eq!(&*call.id(), "244000003-19700101T000000Z");
    let size = size_of::<PortCall>();
    assert!(size <= 128, "PortCall is {size} B inline, budget 128 B (a jemalloc size class)");
}

/// A call keeps its services in a list grown one at a time, so a service's
/// own size is what each one costs: 64 bytes since its strings became
/// `Box<str>`s (88, a 96-byte allocation for the first, before).
#[test]
fn a_service_stays_within_its_size_class() {
    let size = size_of::<porttrack_processors::Service>();
    assert!(size <= 64, "Service is {size} B, budget 64 B (a jemalloc size class)");
}
