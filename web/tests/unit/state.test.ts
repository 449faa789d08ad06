import { describe, expect, it } from 'vitest';
import {
  activeWeather,
  applyEvent,
  countVessels,
  createState,
  isStale,
  pruneVessels,
  recentAnomalies,
  replaceVessels,
  STALE_AFTER_MS,
} from '../../src/state';
import type { ZoneCollection } from '../../src/types';
import { feature } from './fixtures';

const zones = (): ZoneCollection => ({
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] }, properties: { name: 'Maas North Anchorage', kind: 'anchorage', congestion: null } },
  ],
});

const congestion = (level: 'free' | 'severe') => ({
  level,
  vessels_present: 3,
  queue_length: 3,
  waiting_now_count: 3,
  waiting_p50_s: 60,
  waiting_p90_s: 120,
  berth_occupancy: null,
  moored_vessels: 0,
  arrivals_per_hour: 0,
  departures_per_hour: 0,
  snapshot_time: null,
});

describe('vessel events', () => {
  it('insert a new vessel and replace an older state of the same vessel', () => {
    const s = createState();
    expect(applyEvent(s, 'vessel', feature({ mmsi: 1, event_time: '2026-12-01T10:00:00Z' }), 1000, '7')).toEqual({
      kind: 'vessel',
      mmsi: 1,
      changed: true,
    });
    applyEvent(s, 'vessel', feature({ mmsi: 1, lat: 52, event_time: '2026-12-01T10:00:05Z' }), 2000);
    expect(s.vessels.size).toBe(1);
    expect(s.vessels.get(1)?.properties.lat).toBe(52);
    expect(s.stats.counts.vessel).toBe(2);
    expect(s.stats.lastAt.vessel).toBe(2000);
    expect(s.stats.lastEventId).toBe('7');
    expect(s.lastUpdate).toBe(2000);
  });

  it('never let an older event overwrite a newer state (out-of-order delivery)', () => {
    const s = createState();
    applyEvent(s, 'vessel', feature({ mmsi: 1, lat: 52, event_time: '2026-12-01T10:00:05Z' }), 1);
    const r = applyEvent(s, 'vessel', feature({ mmsi: 1, lat: 51, event_time: '2026-12-01T10:00:00Z' }), 2);
    expect(r).toEqual({ kind: 'vessel', mmsi: 1, changed: false });
    expect(s.vessels.get(1)?.properties.lat).toBe(52);
  });

  it('ignore malformed vessel data without throwing', () => {
    const s = createState();
    expect(applyEvent(s, 'vessel', null, 1).kind).toBe('ignored');
    expect(applyEvent(s, 'vessel', { ...feature(), geometry: { type: 'Point', coordinates: [NaN, 1] } }, 1)).toMatchObject({
      changed: false,
    });
    expect(s.vessels.size).toBe(0);
  });

  it('a snapshot replaces the fleet but keeps newer streamed states', () => {
    const s = createState();
    applyEvent(s, 'vessel', feature({ mmsi: 1, lat: 52, event_time: '2026-12-01T10:00:05Z' }), 1);
    applyEvent(s, 'vessel', feature({ mmsi: 2, event_time: '2026-12-01T10:00:05Z' }), 1);
    replaceVessels(s, [feature({ mmsi: 1, lat: 51, event_time: '2026-12-01T10:00:00Z' }), feature({ mmsi: 3 })]);
    expect([...s.vessels.keys()].sort()).toEqual([1, 3]);
    expect(s.vessels.get(1)?.properties.lat).toBe(52);
  });
});

describe('congestion events', () => {
  it('update the named zone and remember the last event', () => {
    const s = createState();
    s.zones = zones();
    const r = applyEvent(s, 'congestion', { zone: 'Maas North Anchorage', congestion: congestion('severe') }, 5);
    expect(r).toEqual({ kind: 'congestion', zone: 'Maas North Anchorage', matched: true });
    expect(s.zones.features[0].properties.congestion?.level).toBe('severe');
    expect(s.stats.lastCongestion?.zone).toBe('Maas North Anchorage');
    expect(s.stats.counts.congestion).toBe(1);
  });

  it('for an unknown zone change nothing but are still counted', () => {
    const s = createState();
    s.zones = zones();
    expect(applyEvent(s, 'congestion', { zone: 'Atlantis', congestion: congestion('free') }, 5)).toMatchObject({ matched: false });
    expect(s.zones.features[0].properties.congestion).toBeNull();
  });
});

describe('alerts', () => {
  it('a cleared weather alert removes the raised one of the same zone and kind', () => {
    const s = createState();
    const w = { zone: 'Maasmond', station: 'HvH', kind: 'wind_gust', value: 21, limit: 20 };
    applyEvent(s, 'alert', { kind: 'weather', item: { ...w, event_time: '2026-12-01T10:00:00Z', raised: true } }, 1);
    expect(activeWeather(s)).toHaveLength(1);
    applyEvent(s, 'alert', { kind: 'weather', item: { ...w, event_time: '2026-12-01T10:10:00Z', raised: false } }, 2);
    expect(activeWeather(s)).toHaveLength(0);
  });

  it('a stream clear overrides an older raised alert from the overview', () => {
    const s = createState();
    const w = { zone: 'Maasmond', station: 'HvH', kind: 'wind_gust', value: 21, limit: 20 };
    s.overview = {
      generated_at: '',
      anchorage_queue: [],
      arrivals_today: [],
      departures_today: [],
      berths: [],
      anomalies: [],
      counts: { vessels: 0, under_way: 0, anchored: 0, moored: 0 },
      weather_alerts: [{ ...w, event_time: '2026-12-01T10:00:00Z', raised: true }],
    };
    expect(activeWeather(s)).toHaveLength(1);
    applyEvent(s, 'alert', { kind: 'weather', item: { ...w, event_time: '2026-12-01T10:10:00Z', raised: false } }, 2);
    expect(activeWeather(s)).toHaveLength(0);
  });

  it('anomalies are merged newest first without duplicates', () => {
    const s = createState();
    const a = { mmsi: 1, name: 'A', event_time: '2026-12-01T10:00:00Z', kind: 'speeding', zone: null, details: null };
    applyEvent(s, 'alert', { kind: 'anomaly', item: a }, 1);
    applyEvent(s, 'alert', { kind: 'anomaly', item: { ...a, event_time: '2026-12-01T11:00:00Z' } }, 1);
    applyEvent(s, 'alert', { kind: 'anomaly', item: a }, 1);
    const list = recentAnomalies(s);
    expect(list.map((x) => x.event_time)).toEqual(['2026-12-01T11:00:00Z', '2026-12-01T10:00:00Z']);
  });

  it('unknown alert kinds and event types are ignored', () => {
    const s = createState();
    expect(applyEvent(s, 'alert', { kind: 'tsunami', item: {} }, 1).kind).toBe('ignored');
    expect(applyEvent(s, 'weird', {}, 1).kind).toBe('ignored');
  });
});

describe('heartbeat, reset and staleness', () => {
  it('a heartbeat refreshes the last update time', () => {
    const s = createState();
    applyEvent(s, 'heartbeat', { generated_at: '' }, 1234);
    expect(s.lastUpdate).toBe(1234);
    expect(applyEvent(s, 'reset', {}, 1300).kind).toBe('reset');
  });

  it('data is stale only after the stale threshold, and never before any data', () => {
    expect(isStale(0, 10 ** 12)).toBe(false);
    expect(isStale(1000, 1000 + STALE_AFTER_MS)).toBe(false);
    expect(isStale(1000, 1001 + STALE_AFTER_MS)).toBe(true);
  });
});

describe('counts', () => {
  it('count vessels by movement', () => {
    const c = countVessels([
      feature({ mmsi: 1, movement: 'under_way' }),
      feature({ mmsi: 2, movement: 'anchored' }),
      feature({ mmsi: 3, movement: 'moored' }),
      feature({ mmsi: 4, movement: 'stopped' }),
    ]);
    expect(c).toEqual({ vessels: 4, under_way: 1, anchored: 1, moored: 1 });
  });
});

describe('pruning', () => {
  it('drops vessels not heard from for longer than the max age, keeps the rest', () => {
    const s = createState();
    const now = Date.parse('2026-12-02T12:00:00Z');
    replaceVessels(s, [
      feature({ mmsi: 1, event_time: '2026-12-01T11:59:00Z' }),
      feature({ mmsi: 2, event_time: '2026-12-02T11:00:00Z' }),
      feature({ mmsi: 3, event_time: null }),
    ]);
    expect(pruneVessels(s, now)).toBe(2);
    expect([...s.vessels.keys()]).toEqual([2]);
  });
});
