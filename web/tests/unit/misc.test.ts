import { describe, expect, it } from 'vitest';
import { CARGO_COLUMNS, currentCall, runningDuration, tableColumns } from '../../src/details';
import { detailText, occupancyLevel } from '../../src/panels';
import { syntheticVessels } from '../../src/synthetic';
import type { PortCall } from '../../src/types';
import { vessel } from './fixtures';

const call = (id: string, last: string): PortCall => ({
  id,
  mmsi: 1,
  name: null,
  phase: 'berthed',
  arrived_at: last,
  anchored_at: null,
  waiting_time_s: null,
  berth: null,
  berthed_at: null,
  unberthed_at: null,
  service_time_s: null,
  departed_at: null,
  teu_loaded: null,
  teu_discharged: null,
  services: [],
  last_event_time: last,
});

describe('details', () => {
  it('shows the call the vessel is in, else its most recent one', () => {
    const calls = [call('a', '2026-12-01T10:00:00Z'), call('b', '2026-12-01T12:00:00Z')];
    expect(currentCall({ vessel: vessel({ port_call: { id: 'a', phase: 'berthed' } }), port_calls: calls })?.id).toBe('a');
    expect(currentCall({ vessel: vessel(), port_calls: calls })?.id).toBe('b');
    expect(currentCall({ vessel: vessel(), port_calls: [] })).toBeNull();
  });
});

describe('phase durations', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('use the API value once the phase is over', () => {
    expect(runningDuration(5400, null, now)).toBe('1 h 30 min');
  });
  it('count the time so far while the phase runs', () => {
    expect(runningDuration(0, '2026-12-01T10:00:00Z', now)).toBe('2 h 00 min so far');
  });
  it('show a dash when there is nothing to show', () => {
    expect(runningDuration(null, null, now)).toBe('—');
  });
});

describe('cargo and service tables', () => {
  it('show the preferred columns first and skip ids', () => {
    const cargo = [{ event_id: 'x', event_time: 't', mmsi: 1, voyage: null, berth: 'B', operation: 'load', containers: 3, teu: 5, imdg_class: null }];
    expect(tableColumns(cargo, CARGO_COLUMNS)).toEqual(['event_time', 'operation', 'teu', 'containers']);
    expect(tableColumns([{ id: 1, a: 1, b: { c: 1 } }])).toEqual(['a']);
  });
});

describe('panels', () => {
  it('grade berth occupancy like congestion', () => {
    expect(occupancyLevel(null)).toBe('free');
    expect(occupancyLevel(0.5)).toBe('free');
    expect(occupancyLevel(0.7)).toBe('moderate');
    expect(occupancyLevel(0.9)).toBe('heavy');
    expect(occupancyLevel(1)).toBe('severe');
  });
  it('summarise free-form anomaly details', () => {
    expect(detailText({ sog_kn: 19.44, limit_kn: 16, nested: { x: 1 } })).toBe(' · sog kn 19.4, limit kn 16');
    expect(detailText(null)).toBe('');
    expect(detailText('left the channel')).toBe(' · left the channel');
  });
});

describe('synthetic fleet', () => {
  it('is deterministic, sized as asked, inside the port approaches', () => {
    const a = syntheticVessels(1000, 1, 0);
    const b = syntheticVessels(1000, 1, 0);
    expect(a).toHaveLength(1000);
    expect(a).toEqual(b);
    expect(new Set(a.map((f) => f.properties.mmsi)).size).toBe(1000);
    for (const f of a) {
      const [lon, lat] = f.geometry.coordinates;
      expect(lon).toBeGreaterThanOrEqual(3.3);
      expect(lon).toBeLessThanOrEqual(4.7);
      expect(lat).toBeGreaterThanOrEqual(51.7);
      expect(lat).toBeLessThanOrEqual(52.3);
    }
  });
});
