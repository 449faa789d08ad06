// The page's state and how stream events merge into it. Pure: no DOM, no
// network, so the merge rules (newest event time wins, reset, counters) are
// unit tested; main.ts subscribes and redraws.

import type {
  AlertEvent,
  Anomaly,
  CongestionEvent,
  Counts,
  Overview,
  SafetyMessage,
  VesselFeature,
  WeatherAlert,
  ZoneCollection,
} from './types';
import { movementOf } from './style';

export type StreamEventType = 'vessel' | 'congestion' | 'alert' | 'heartbeat' | 'reset';

export interface StreamStats {
  /** Events received per type since the page loaded. */
  counts: Record<StreamEventType, number>;
  /** Date.now() of the last event per type (0 = never). */
  lastAt: Record<StreamEventType, number>;
  /** The last congestion event, for tests that watch a zone change. */
  lastCongestion: CongestionEvent | null;
  lastEventId: string | null;
}

export interface PortState {
  vessels: Map<number, VesselFeature>;
  zones: ZoneCollection | null;
  overview: Overview | null;
  /** Alerts received through the stream since the last overview load, newest first. */
  liveAnomalies: Anomaly[];
  liveWeather: WeatherAlert[];
  liveSafety: SafetyMessage[];
  /** Date.now() of the last data received (snapshot or event), for the age display. */
  lastUpdate: number;
  stats: StreamStats;
}

export function emptyStats(): StreamStats {
  const zero = { vessel: 0, congestion: 0, alert: 0, heartbeat: 0, reset: 0 };
  return { counts: { ...zero }, lastAt: { ...zero }, lastCongestion: null, lastEventId: null };
}

export function createState(): PortState {
  return {
    vessels: new Map(),
    zones: null,
    overview: null,
    liveAnomalies: [],
    liveWeather: [],
    liveSafety: [],
    lastUpdate: 0,
    stats: emptyStats(),
  };
}

function time(iso: string | null | undefined): number {
  if (!iso) return -Infinity;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? -Infinity : t;
}

/** Inserts or replaces a vessel unless what we hold is newer: the stream and a
 * snapshot loaded concurrently may deliver the same vessel out of order, and
 * the API itself only ever moves event time forward. Returns whether it changed. */
export function upsertVessel(state: PortState, f: VesselFeature): boolean {
  const mmsi = f.properties?.mmsi ?? f.id;
  if (typeof mmsi !== 'number' || !f.geometry || !Array.isArray(f.geometry.coordinates)) return false;
  const [lon, lat] = f.geometry.coordinates;
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return false;
  const old = state.vessels.get(mmsi);
  if (old && time(old.properties.event_time) > time(f.properties.event_time)) return false;
  state.vessels.set(mmsi, f);
  return true;
}

/** Replaces all vessels with a snapshot (after load or a `reset`), keeping any
 * vessel whose held state is newer than the snapshot's copy. */
export function replaceVessels(state: PortState, features: VesselFeature[]): void {
  const old = state.vessels;
  state.vessels = new Map();
  for (const f of features) upsertVessel(state, f);
  for (const [mmsi, f] of old) {
    const cur = state.vessels.get(mmsi);
    if (cur && time(f.properties.event_time) > time(cur.properties.event_time)) state.vessels.set(mmsi, f);
  }
}

/** Applies a congestion event to the zone of that name. Returns whether a zone matched. */
export function applyCongestion(state: PortState, ev: CongestionEvent): boolean {
  if (!state.zones) return false;
  const z = state.zones.features.find((f) => f.properties.name === ev.zone);
  if (!z) return false;
  z.properties.congestion = ev.congestion;
  return true;
}

const MAX_LIVE_ALERTS = 50;

export function applyAlert(state: PortState, ev: AlertEvent): void {
  if (ev.kind === 'anomaly') {
    state.liveAnomalies = [ev.item, ...state.liveAnomalies].slice(0, MAX_LIVE_ALERTS);
  } else if (ev.kind === 'weather') {
    // Latest state per (zone, kind): a cleared alert removes the raised one.
    const key = (w: WeatherAlert) => `${w.zone ?? ''}|${w.kind}`;
    state.liveWeather = [ev.item, ...state.liveWeather.filter((w) => key(w) !== key(ev.item))].slice(
      0,
      MAX_LIVE_ALERTS,
    );
  } else if (ev.kind === 'safety') {
    state.liveSafety = [ev.item, ...state.liveSafety.filter((m) => m.id !== ev.item.id)].slice(0, MAX_LIVE_ALERTS);
  }
}

/** Safety messages: the stream's and the overview's, deduplicated by id (a
 * repeated warning has a new id and is shown again, as the API lists it),
 * newest first. */
export function recentSafety(state: PortState, limit = 20): SafetyMessage[] {
  const byId = new Map<string, SafetyMessage>();
  for (const m of [...state.liveSafety, ...(state.overview?.safety_messages ?? [])]) {
    if (!byId.has(m.id)) byId.set(m.id, m);
  }
  return [...byId.values()].sort((a, b) => time(b.event_time) - time(a.event_time)).slice(0, limit);
}

/** The messages that can be drawn: those whose sender was located. */
export function locatedSafety(messages: SafetyMessage[]): (SafetyMessage & { lat: number; lon: number })[] {
  return messages.filter(
    (m): m is SafetyMessage & { lat: number; lon: number } =>
      typeof m.lat === 'number' && typeof m.lon === 'number' && Number.isFinite(m.lat) && Number.isFinite(m.lon),
  );
}

/** "MOB TEST" from whom to whom: sender name (or MMSI) and broadcast/addressee. */
export function safetyRoute(m: SafetyMessage): string {
  const from = m.name ? `${m.name} (${m.mmsi})` : `MMSI ${m.mmsi}`;
  const to = m.addressed ? `to ${m.dest_mmsi ?? 'one station'}` : 'broadcast';
  return `${from} · ${to}`;
}

/** What the panels show as active weather alerts: the overview's list overlaid
 * with the stream's newer states, keeping only raised ones. */
export function activeWeather(state: PortState): WeatherAlert[] {
  const key = (w: WeatherAlert) => `${w.zone ?? ''}|${w.kind}`;
  const byKey = new Map<string, WeatherAlert>();
  for (const w of state.overview?.weather_alerts ?? []) byKey.set(key(w), w);
  for (const w of [...state.liveWeather].reverse()) {
    const old = byKey.get(key(w));
    if (!old || time(old.event_time) <= time(w.event_time)) byKey.set(key(w), w);
  }
  return [...byKey.values()].filter((w) => w.raised).sort((a, b) => time(b.event_time) - time(a.event_time));
}

/** Anomalies: stream first, then the overview's, deduplicated, newest first. */
export function recentAnomalies(state: PortState, limit = 50): Anomaly[] {
  const seen = new Set<string>();
  const out: Anomaly[] = [];
  for (const a of [...state.liveAnomalies, ...(state.overview?.anomalies ?? [])]) {
    const k = `${a.mmsi}|${a.kind}|${a.event_time}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out.sort((a, b) => time(b.event_time) - time(a.event_time)).slice(0, limit);
}

/** Header counts, from the vessels actually drawn so they agree with the map. */
export function countVessels(vessels: Iterable<VesselFeature>): Counts {
  const c: Counts = { vessels: 0, under_way: 0, anchored: 0, moored: 0 };
  for (const v of vessels) {
    c.vessels++;
    const m = movementOf(v.properties);
    if (m === 'under_way') c.under_way++;
    else if (m === 'anchored') c.anchored++;
    else if (m === 'moored') c.moored++;
  }
  return c;
}

export type Applied =
  | { kind: 'vessel'; mmsi: number; changed: boolean }
  | { kind: 'congestion'; zone: string; matched: boolean }
  | { kind: 'alert' }
  | { kind: 'heartbeat' }
  | { kind: 'reset' }
  | { kind: 'ignored'; reason: string };

/** Merges one stream event (its `event:` type and parsed `data:`) into the
 * state and counts it. Malformed data is ignored, never thrown: one bad event
 * must not stop the page's live updates. */
export function applyEvent(
  state: PortState,
  type: string,
  data: unknown,
  now: number,
  id: string | null = null,
): Applied {
  if (!isEventType(type)) return { kind: 'ignored', reason: `unknown event type ${type}` };
  state.stats.counts[type]++;
  state.stats.lastAt[type] = now;
  if (id !== null && id !== '') state.stats.lastEventId = id;
  state.lastUpdate = now;
  switch (type) {
    case 'vessel': {
      const f = data as VesselFeature;
      if (!f || typeof f !== 'object' || !f.properties) return { kind: 'ignored', reason: 'bad vessel' };
      const changed = upsertVessel(state, f);
      return { kind: 'vessel', mmsi: f.properties.mmsi, changed };
    }
    case 'congestion': {
      const ev = data as CongestionEvent;
      if (!ev || typeof ev.zone !== 'string') return { kind: 'ignored', reason: 'bad congestion' };
      state.stats.lastCongestion = ev;
      return { kind: 'congestion', zone: ev.zone, matched: applyCongestion(state, ev) };
    }
    case 'alert': {
      const ev = data as AlertEvent;
      if (!ev || (ev.kind !== 'anomaly' && ev.kind !== 'weather' && ev.kind !== 'safety') || !ev.item) {
        return { kind: 'ignored', reason: 'bad alert' };
      }
      if (ev.kind === 'safety' && (typeof ev.item.id !== 'string' || typeof ev.item.text !== 'string')) {
        return { kind: 'ignored', reason: 'bad alert' };
      }
      applyAlert(state, ev);
      return { kind: 'alert' };
    }
    case 'heartbeat':
      return { kind: 'heartbeat' };
    case 'reset':
      return { kind: 'reset' };
  }
}

function isEventType(t: string): t is StreamEventType {
  return t === 'vessel' || t === 'congestion' || t === 'alert' || t === 'heartbeat' || t === 'reset';
}

/** The data is stale when nothing (not even a heartbeat, sent every 15 s) has
 * arrived for this long. */
export const STALE_AFTER_MS = 45_000;

export function isStale(lastUpdate: number, now: number): boolean {
  return lastUpdate > 0 && now - lastUpdate > STALE_AFTER_MS;
}

/** The API's default `max_age`: vessels not heard from for a day are not in
 * `/vessels`, so the page drops them too (or its count would drift from the
 * API's over a long session). */
export const VESSEL_MAX_AGE_MS = 86_400_000;

/** Removes vessels whose last report is older than `maxAgeMs`. Returns how many. */
export function pruneVessels(state: PortState, now: number, maxAgeMs = VESSEL_MAX_AGE_MS): number {
  let n = 0;
  for (const [mmsi, f] of state.vessels) {
    if (now - time(f.properties.event_time) > maxAgeMs) {
      state.vessels.delete(mmsi);
      n++;
    }
  }
  return n;
}
