import { describe, expect, it } from 'vitest';
import {
  CONGESTION_COLORS,
  TYPE_COLORS,
  congestionColor,
  glyphSize,
  movementOf,
  rotationOf,
  typeGroupOf,
  vesselStyle,
  zoneStyle,
  zoneSummary,
} from '../../src/style';
import { vessel } from './fixtures';

describe('vessel styling', () => {
  it('colours by type group and falls back to unknown for unexpected groups', () => {
    expect(vesselStyle(vessel({ type_group: 'tanker' }), 10).fill).toBe(TYPE_COLORS.tanker);
    expect(typeGroupOf({ type_group: null })).toBe('unknown');
    expect(typeGroupOf({ type_group: 'submarine' as never })).toBe('unknown');
  });

  it('chooses the glyph by movement', () => {
    expect(vesselStyle(vessel({ movement: 'under_way' }), 10).glyph).toBe('arrow');
    expect(vesselStyle(vessel({ movement: 'moored' }), 10).glyph).toBe('hull');
    expect(vesselStyle(vessel({ movement: 'anchored' }), 10).glyph).toBe('diamond');
    expect(vesselStyle(vessel({ movement: 'stopped' }), 10).glyph).toBe('circle');
    expect(movementOf({ movement: null })).toBe('unknown');
    expect(vesselStyle(vessel({ movement: null }), 10).glyph).toBe('circle');
  });

  it('dims idle vessels but not moving ones', () => {
    expect(vesselStyle(vessel({ movement: 'under_way' }), 10).alpha).toBe(1);
    expect(vesselStyle(vessel({ movement: 'anchored' }), 10).alpha).toBeLessThan(1);
  });

  it('rotates by heading, then by course over ground when heading is null', () => {
    expect(rotationOf({ heading_deg: 120, cog_deg: 90, sog_kn: 10 })).toBe(120);
    expect(rotationOf({ heading_deg: null, cog_deg: 90, sog_kn: 10 })).toBe(90);
  });

  it('does not rotate by course over ground at a standstill or with invalid values', () => {
    expect(rotationOf({ heading_deg: null, cog_deg: 90, sog_kn: 0.1 })).toBeNull();
    expect(rotationOf({ heading_deg: 511, cog_deg: 360, sog_kn: 5 })).toBeNull();
    expect(rotationOf({ heading_deg: null, cog_deg: null, sog_kn: null })).toBeNull();
  });

  it('grows glyphs with zoom and ship length, within bounds', () => {
    expect(glyphSize(14, null)).toBeGreaterThan(glyphSize(9, null));
    expect(glyphSize(12, 400)).toBeGreaterThan(glyphSize(12, 100));
    expect(glyphSize(12, 10_000)).toBeLessThanOrEqual(7 * 1.6);
    expect(glyphSize(12, 1)).toBeGreaterThanOrEqual(7 * 0.75);
  });
});

describe('zone styling', () => {
  it('fills zones with their congestion level colour', () => {
    expect(zoneStyle('anchorage', 'severe').fillColor).toBe(CONGESTION_COLORS.severe);
    expect(zoneStyle('berth', 'free').fillColor).toBe(CONGESTION_COLORS.free);
    expect(congestionColor(null)).not.toBe(CONGESTION_COLORS.free);
  });

  it('never tints the whole port with the port limits', () => {
    expect(zoneStyle('port_limits', 'severe').fillOpacity).toBe(0);
  });

  it('summarises a zone by what matters for its kind', () => {
    const c = {
      level: 'heavy' as const,
      vessels_present: 9,
      queue_length: 5,
      waiting_now_count: 4,
      waiting_p50_s: 3600,
      waiting_p90_s: 7200,
      berth_occupancy: 0.756,
      moored_vessels: 3,
      arrivals_per_hour: 1,
      departures_per_hour: 1,
      snapshot_time: null,
    };
    expect(zoneSummary('anchorage', c)).toBe('4 waiting');
    expect(zoneSummary('berth', c)).toBe('76 % occupied');
    expect(zoneSummary('approach_channel', c)).toBe('9 vessels');
    expect(zoneSummary('basin', null)).toBe('');
  });
});
