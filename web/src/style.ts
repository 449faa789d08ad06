// How things look, as pure functions of their data, so the rules are unit
// tested and the canvas layer only draws what these decide.

import type { CongestionLevel, Movement, TypeGroup, VesselProps, ZoneKind } from './types';

/** Fill colour per type group: cargo/tanker, the bulk of a port's traffic, get
 * the two most distinct hues; service craft share warm tones. Chosen to stay
 * distinguishable on the dark sea and for the common colour-vision deficiencies
 * (shape carries movement, so colour is never the only cue). */
export const TYPE_COLORS: Record<TypeGroup, string> = {
  cargo: '#4cc3ff',
  tanker: '#ff6b8b',
  passenger: '#b48cff',
  fishing: '#ffd166',
  tug: '#ff9f43',
  pilot: '#f9f871',
  sar: '#ff4757',
  pleasure: '#7bed9f',
  hsc: '#70a1ff',
  other: '#c8d6e5',
  unknown: '#8395a7',
};

export const TYPE_LABELS: Record<TypeGroup, string> = {
  cargo: 'Cargo',
  tanker: 'Tanker',
  passenger: 'Passenger',
  fishing: 'Fishing',
  tug: 'Tug',
  pilot: 'Pilot',
  sar: 'Search & rescue',
  pleasure: 'Pleasure craft',
  hsc: 'High-speed craft',
  other: 'Other',
  unknown: 'Unknown',
};

export function typeGroupOf(p: Pick<VesselProps, 'type_group'>): TypeGroup {
  const g = p.type_group;
  return g && g in TYPE_COLORS ? g : 'unknown';
}

export function movementOf(p: Pick<VesselProps, 'movement'>): Movement {
  const m = p.movement;
  return m === 'under_way' || m === 'anchored' || m === 'moored' || m === 'stopped' ? m : 'unknown';
}

/** Glyph shapes: a pointed hull for a vessel that moves, a hull with a blunt
 * bow for one moored alongside, a diamond at anchor, a circle when stopped
 * or unknown. */
export type Glyph = 'arrow' | 'hull' | 'diamond' | 'circle';

export const MOVEMENT_GLYPH: Record<Movement, Glyph> = {
  under_way: 'arrow',
  moored: 'hull',
  anchored: 'diamond',
  stopped: 'circle',
  unknown: 'circle',
};

/** Heading to draw, in degrees clockwise from north: the true heading when the
 * transponder reports one (AIS 511 = not available, already null in the API),
 * else the course over ground, else null (drawn unrotated). Course over ground
 * is meaningless at a standstill, so below 0.5 kn without heading → null. */
export function rotationOf(p: Pick<VesselProps, 'heading_deg' | 'cog_deg' | 'sog_kn'>): number | null {
  if (p.heading_deg !== null && p.heading_deg !== undefined && p.heading_deg >= 0 && p.heading_deg < 360) {
    return p.heading_deg;
  }
  if (p.cog_deg !== null && p.cog_deg !== undefined && p.cog_deg >= 0 && p.cog_deg < 360) {
    if (p.sog_kn === null || p.sog_kn === undefined || p.sog_kn >= 0.5) return p.cog_deg;
  }
  return null;
}

export interface VesselStyle {
  fill: string;
  glyph: Glyph;
  /** Half-length of the glyph in CSS pixels. */
  size: number;
  rotation: number | null;
  /** Moving vessels are drawn fully opaque, idle ones a little dimmer so the
   * traffic that matters stands out in a crowded anchorage. */
  alpha: number;
}

/** Glyph half-length: grows with zoom and with the ship's length, bounded so a
 * 400 m container ship does not hide its tugs. */
export function glyphSize(zoom: number, lengthM: number | null): number {
  const base = zoom >= 14 ? 9 : zoom >= 12 ? 7 : zoom >= 10 ? 5 : 4;
  if (lengthM === null || !Number.isFinite(lengthM) || lengthM <= 0) return base;
  const factor = Math.min(1.6, Math.max(0.75, Math.sqrt(lengthM / 150)));
  return Math.round(base * factor * 10) / 10;
}

export function vesselStyle(p: VesselProps, zoom: number): VesselStyle {
  const movement = movementOf(p);
  return {
    fill: TYPE_COLORS[typeGroupOf(p)],
    glyph: MOVEMENT_GLYPH[movement],
    size: glyphSize(zoom, p.length_m),
    rotation: rotationOf(p),
    alpha: movement === 'under_way' ? 1 : 0.85,
  };
}

/** Names are drawn from this zoom on (about 1:70 000, where labels stop overlapping). */
export const NAME_MIN_ZOOM = 13;

export const CONGESTION_COLORS: Record<CongestionLevel, string> = {
  free: '#2ecc71',
  moderate: '#f1c40f',
  heavy: '#ff8c1a',
  severe: '#ff4d4d',
};

export function congestionColor(level: CongestionLevel | null | undefined): string {
  return level && level in CONGESTION_COLORS ? CONGESTION_COLORS[level] : '#6c7a89';
}

export interface ZoneStyle {
  color: string;
  weight: number;
  fillColor: string;
  fillOpacity: number;
  dashArray?: string;
  opacity: number;
}

/** Zone outline by kind, fill by congestion level. Port limits are only a faint
 * dashed outline: they contain everything and would otherwise tint the map. */
export function zoneStyle(kind: ZoneKind, level: CongestionLevel | null | undefined): ZoneStyle {
  const c = congestionColor(level);
  switch (kind) {
    case 'port_limits':
      return { color: '#7f9bb5', weight: 1, fillColor: c, fillOpacity: 0, dashArray: '6 6', opacity: 0.6 };
    case 'restricted':
      return { color: '#ff6b6b', weight: 1.5, fillColor: c, fillOpacity: 0.08, dashArray: '4 4', opacity: 0.9 };
    case 'approach_channel':
      return { color: c, weight: 1, fillColor: c, fillOpacity: level ? 0.16 : 0.06, opacity: 0.8 };
    case 'berth':
      return { color: c, weight: 2, fillColor: c, fillOpacity: 0.45, opacity: 1 };
    default:
      return { color: c, weight: 1.5, fillColor: c, fillOpacity: level ? 0.22 : 0.08, opacity: 0.95 };
  }
}

/** Short numeric summary shown in a zone's label, e.g. "5 waiting · p50 42 min". */
export function zoneSummary(kind: ZoneKind, c: import('./types').Congestion | null | undefined): string {
  if (!c) return '';
  if (kind === 'berth') {
    const occ = c.berth_occupancy === null ? '—' : `${Math.round(c.berth_occupancy * 100)} %`;
    return `${occ} occupied`;
  }
  if (kind === 'anchorage') {
    const w = c.waiting_now_count ?? c.queue_length ?? 0;
    return `${w} waiting`;
  }
  return `${c.vessels_present ?? 0} vessels`;
}
