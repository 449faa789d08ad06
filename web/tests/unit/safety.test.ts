import { describe, expect, it } from 'vitest';
import { applyEvent, createState, locatedSafety, recentSafety, safetyRoute } from '../../src/state';
import type { Overview, SafetyMessage } from '../../src/types';

function message(p: Partial<SafetyMessage> = {}): SafetyMessage {
  return {
    id: 'ais.nmea-0-10',
    event_time: '2026-12-01T10:00:00Z',
    mmsi: 244000001,
    name: 'ALPHA',
    addressed: false,
    dest_mmsi: null,
    sequence: null,
    retransmit: null,
    text: 'MOB TEST',
    lat: 52.045,
    lon: 3.59,
    located_by: 'vessel_position',
    ...p,
  };
}

function overviewWith(safety_messages: SafetyMessage[]): Overview {
  return {
    generated_at: '2026-12-01T10:00:00Z',
    anchorage_queue: [],
    arrivals_today: [],
    departures_today: [],
    berths: [],
    weather_alerts: [],
    anomalies: [],
    safety_messages,
    counts: { vessels: 0, under_way: 0, anchored: 0, moored: 0 },
  };
}

describe('safety messages', () => {
  it('merges stream alerts of kind safety with the overview, deduplicated by id, newest first', () => {
    const s = createState();
    s.overview = overviewWith([
      message(),
      message({ id: 'ais.nmea-1-11-2', event_time: '2026-12-01T09:00:00Z', mmsi: 2442000, addressed: true }),
    ]);
    const r = applyEvent(s, 'alert', { kind: 'safety', item: message({ id: 'ais.nmea-0-12', event_time: '2026-12-01T10:05:00Z', text: 'SART ACTIVE' }) }, 1);
    expect(r.kind).toBe('alert');
    // The same message again (the overview also lists it after a refresh): shown once.
    applyEvent(s, 'alert', { kind: 'safety', item: message() }, 2);
    expect(recentSafety(s).map((m) => m.id)).toEqual(['ais.nmea-0-12', 'ais.nmea-0-10', 'ais.nmea-1-11-2']);
    expect(recentSafety(s, 1).map((m) => m.text)).toEqual(['SART ACTIVE']);
    expect(s.stats.counts.alert).toBe(2);
  });

  it('ignores a malformed safety alert instead of throwing', () => {
    const s = createState();
    expect(applyEvent(s, 'alert', { kind: 'safety', item: { id: 7 } }, 1).kind).toBe('ignored');
    expect(applyEvent(s, 'alert', { kind: 'safety' }, 1).kind).toBe('ignored');
    expect(recentSafety(s)).toEqual([]);
  });

  it('works with an overview from a server without safety messages', () => {
    const s = createState();
    const o = overviewWith([]);
    delete o.safety_messages;
    s.overview = o;
    expect(recentSafety(s)).toEqual([]);
  });

  it('draws only messages whose sender was located', () => {
    const shown = locatedSafety([
      message(),
      message({ id: 'b', lat: null, lon: null, located_by: null }),
      message({ id: 'c', lat: 51.98, lon: 4.05, located_by: 'station' }),
    ]);
    expect(shown.map((m) => m.id)).toEqual(['ais.nmea-0-10', 'c']);
  });

  it('says who sent it and whether it was broadcast or addressed', () => {
    expect(safetyRoute(message())).toBe('ALPHA (244000001) · broadcast');
    expect(safetyRoute(message({ name: null, mmsi: 2442000, addressed: true, dest_mmsi: 244000002 }))).toBe(
      'MMSI 2442000 · to 244000002',
    );
  });
});
