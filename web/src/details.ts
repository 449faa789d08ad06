// The vessel details panel: static data, the current port call with its
// phase times, cargo, services. The track is drawn by main.ts.

import { h, byId } from './dom';
import { formatAge, formatDateTime, formatDuration, formatNumber, humanize } from './format';
import { TYPE_COLORS, TYPE_LABELS, movementOf, typeGroupOf } from './style';
import type { PortCall, VesselDetails, VesselProps } from './types';

function kv(pairs: [string, string][]): HTMLElement {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) dl.append(h('dt', {}, k), h('dd', {}, v));
  return dl;
}

/** The call to show: the one the vessel is in now, else its most recent. */
export function currentCall(d: Pick<VesselDetails, 'vessel' | 'port_calls'>): PortCall | null {
  const id = d.vessel.port_call?.id;
  if (id !== undefined && id !== null) {
    const c = d.port_calls.find((p) => String(p.id) === String(id));
    if (c) return c;
  }
  const t = (c: PortCall) => Date.parse(c.last_event_time ?? c.arrived_at ?? '') || 0;
  return [...d.port_calls].sort((a, b) => t(b) - t(a))[0] ?? null;
}

export function showHeader(v: Pick<VesselProps, 'mmsi' | 'name' | 'callsign'>): void {
  byId('details-title').textContent = v.name ?? `MMSI ${v.mmsi}`;
  byId('details-sub').textContent = `MMSI ${v.mmsi}${v.callsign ? ` · ${v.callsign}` : ''}`;
}

export function renderLoading(v: VesselProps): void {
  showHeader(v);
  byId('details-body').replaceChildren(chips(v), h('p', { class: 'loading' }, 'Loading details…'));
}

export function renderError(message: string): void {
  byId('details-body').append(h('p', { class: 'empty', role: 'alert' }, message));
}

function chips(v: VesselProps): HTMLElement {
  const g = typeGroupOf(v);
  return h(
    'div',
    { class: 'chips' },
    h('span', { class: 'chip' }, h('span', { class: 'swatch', style: `background:${TYPE_COLORS[g]}` }), TYPE_LABELS[g]),
    h('span', { class: 'chip' }, humanize(movementOf(v))),
    v.zone ? h('span', { class: 'chip' }, v.zone) : null,
  );
}

export function renderDetails(d: VesselDetails, now: number): void {
  const v = d.vessel;
  showHeader(v);
  const body: (HTMLElement | null)[] = [chips(v)];
  body.push(
    h('h3', {}, 'Vessel'),
    kv([
      ['IMO', v.imo ? String(v.imo) : '—'],
      ['Call sign', v.callsign ?? '—'],
      ['Ship type', v.ship_type === null ? '—' : `${v.ship_type} (${TYPE_LABELS[typeGroupOf(v)]})`],
      ['Size', v.length_m ? `${v.length_m} × ${v.beam_m ?? '—'} m` : '—'],
      ['Draught', formatNumber(v.draught_m, 1, 'm')],
      ['Destination', v.destination ?? '—'],
      ['ETA', formatDateTime(v.eta)],
      ['Speed', formatNumber(v.sog_kn, 1, 'kn')],
      ['Course / heading', `${formatNumber(v.cog_deg, 0, '°')} / ${formatNumber(v.heading_deg, 0, '°')}`],
      ['Last report', v.event_time ? `${formatDateTime(v.event_time)} (${formatAge(now - Date.parse(v.event_time))})` : '—'],
      ['Position', `${v.lat.toFixed(4)}, ${v.lon.toFixed(4)}`],
    ]),
  );
  const call = currentCall(d);
  body.push(h('h3', {}, 'Port call'));
  if (!call) {
    body.push(h('p', { class: 'empty' }, 'No port call in the retained history.'));
  } else {
    const phases: [string, string | null][] = [
      ['Arrived', call.arrived_at],
      ['Anchored', call.anchored_at],
      ['Berthed', call.berthed_at],
      ['Unberthed', call.unberthed_at],
      ['Departed', call.departed_at],
    ];
    body.push(
      kv([
        ['Phase', humanize(call.phase)],
        ['Berth', call.berth ?? '—'],
        ['Waiting time', runningDuration(call.waiting_time_s, call.phase === 'anchored' ? call.anchored_at : null, now)],
        ['Service time', runningDuration(call.service_time_s, call.phase === 'berthed' ? call.berthed_at : null, now)],
        ['TEU load / disch.', `${call.teu_loaded ?? '—'} / ${call.teu_discharged ?? '—'}`],
      ]),
      h(
        'ol',
        { class: 'timeline', 'aria-label': 'Port call phases' },
        ...phases.map(([label, t]) =>
          h('li', { 'data-done': String(t !== null) }, h('span', {}, label), h('span', {}, formatDateTime(t))),
        ),
      ),
    );
    if (d.port_calls.length > 1) {
      body.push(h('p', { class: 'empty' }, `${d.port_calls.length - 1} earlier call(s) in the history.`));
    }
  }
  body.push(h('h3', {}, 'Cargo'), table(d.cargo, 'No cargo events for this vessel.', CARGO_COLUMNS));
  const services = d.services.length ? d.services : Array.isArray(call?.services) ? (call.services as Record<string, unknown>[]) : [];
  body.push(h('h3', {}, 'Services'), table(services, 'No services recorded.', SERVICE_COLUMNS));
  body.push(
    h('h3', {}, 'Track'),
    h('p', { class: 'empty' }, d.track.length ? `${d.track.length} positions over the last 6 h, drawn on the map.` : 'No positions in the last 6 h.'),
  );
  byId('details-body').replaceChildren(...body.filter((x): x is HTMLElement => x !== null));
}

/** A phase's duration: while the call is in that phase (`since` set), the
 * time since it started, as the API's figure counts completed time only;
 * otherwise the API's completed time, or a dash. */
export function runningDuration(done: number | null, since: string | null, now: number): string {
  if (since) {
    const s = Date.parse(since);
    if (!Number.isNaN(s)) return `${formatDuration((now - s) / 1000)} so far`;
  }
  return formatDuration(done);
}

/** A generic table for the free-form cargo and service records: the first
 * few scalar columns, times shortened. */
export const CARGO_COLUMNS = ['event_time', 'operation', 'teu', 'containers', 'berth', 'imdg_class'];
export const SERVICE_COLUMNS = ['event_time', 'at', 'kind', 'resource', 'berth'];

export function tableColumns(objs: Record<string, unknown>[], preferred: string[] = []): string[] {
  const skip = new Set(['mmsi', 'name', 'port_call_id', 'id', 'event_id']);
  const present = (k: string) => objs.some((o) => o[k] !== null && o[k] !== undefined && typeof o[k] !== 'object');
  const cols = preferred.filter(present);
  for (const o of objs)
    for (const [k, v] of Object.entries(o)) if (!skip.has(k) && (v === null || typeof v !== 'object') && !cols.includes(k)) cols.push(k);
  return cols.slice(0, 4);
}

export function table(rows: unknown[], emptyText: string, preferred: string[] = []): HTMLElement {
  const objs = rows.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object');
  if (!objs.length) {
    const strs = rows.filter((r) => typeof r === 'string') as string[];
    return strs.length ? h('div', { class: 'chips' }, ...strs.map((s) => h('span', { class: 'chip' }, humanize(s)))) : h('p', { class: 'empty' }, emptyText);
  }
  const shown = tableColumns(objs, preferred);
  const cell = (v: unknown) =>
    v === null || v === undefined ? '—' : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? formatDateTime(v) : String(v);
  return h(
    'table',
    { class: 'mini' },
    h('thead', {}, h('tr', {}, ...shown.map((c) => h('th', { scope: 'col' }, c === 'event_time' || c === 'at' ? 'Time' : humanize(c))))),
    h('tbody', {}, ...objs.slice(0, 20).map((o) => h('tr', {}, ...shown.map((c) => h('td', {}, cell(o[c])))))),
  );
}
