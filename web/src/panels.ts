// The side panels (anchorage queue, today's movements, berths, alerts) and
// the legend, rendered from the state. Vessel rows are buttons, so every
// vessel in a panel can be selected from the keyboard.

import { h, byId } from './dom';
import { formatClock, formatDuration, humanize, secondsSince } from './format';
import { activeWeather, recentAnomalies, recentSafety, safetyRoute, type PortState } from './state';
import { CONGESTION_COLORS, TYPE_COLORS, TYPE_LABELS } from './style';
import type { CongestionLevel, PortCall, SafetyMessage, TypeGroup } from './types';

export type Select = (mmsi: number) => void;

function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

function waitClass(s: number | null): string {
  if (s === null) return 'value';
  if (s >= 12 * 3600) return 'value wait-severe';
  if (s >= 6 * 3600) return 'value wait-heavy';
  return 'value';
}

export function renderQueue(state: PortState, select: Select, now: number): void {
  const q = state.overview?.anchorage_queue ?? [];
  byId('queue-count').textContent = String(q.length);
  const box = byId('queue');
  if (q.length === 0) {
    box.replaceChildren(empty('No vessels waiting at anchor.'));
    return;
  }
  // Waiting time grows while the page is open: derive it from anchored_at.
  const rows = q.map((e) => {
    const wait = secondsSince(e.anchored_at, now) ?? e.waiting_s;
    return h(
      'li',
      {},
      h(
        'button',
        { type: 'button', class: 'row', 'data-mmsi': e.mmsi },
        h('span', { class: 'name' }, e.name ?? String(e.mmsi)),
        h('span', { class: waitClass(wait) }, formatDuration(wait)),
        h('span', { class: 'meta' }, `${e.zone ?? 'Anchorage'} · since ${formatClock(e.anchored_at)}`),
      ),
    );
  });
  const list = h('ul', { class: 'rows' }, ...rows);
  list.addEventListener('click', (ev) => onRowClick(ev, select));
  box.replaceChildren(list);
}

function onRowClick(ev: Event, select: Select): void {
  const btn = (ev.target as HTMLElement).closest<HTMLElement>('[data-mmsi]');
  if (btn?.dataset.mmsi) select(Number(btn.dataset.mmsi));
}

function moveList(title: string, calls: PortCall[], when: (c: PortCall) => string | null, select: Select): HTMLElement {
  const items = calls.map((c) =>
    h(
      'li',
      {},
      h(
        'button',
        { type: 'button', class: 'row', 'data-mmsi': c.mmsi },
        h('span', { class: 'name' }, c.name ?? String(c.mmsi)),
        h('span', { class: 'value' }, `${formatClock(when(c))}${c.berth ? ` · ${c.berth}` : ''}`),
      ),
    ),
  );
  const list = items.length ? h('ul', { class: 'rows' }, ...items) : empty('None yet.');
  list.addEventListener('click', (ev) => onRowClick(ev, select));
  return h('div', {}, h('h3', {}, `${title} (${calls.length})`), list);
}

export function renderMoves(state: PortState, select: Select): void {
  const o = state.overview;
  byId('moves').replaceChildren(
    moveList('Arrivals', o?.arrivals_today ?? [], (c) => c.arrived_at, select),
    moveList('Departures', o?.departures_today ?? [], (c) => c.departed_at, select),
  );
}

export function occupancyLevel(occ: number | null): CongestionLevel {
  if (occ === null) return 'free';
  if (occ >= 0.95) return 'severe';
  if (occ >= 0.85) return 'heavy';
  if (occ >= 0.6) return 'moderate';
  return 'free';
}

export function renderBerths(state: PortState, select: Select): void {
  const berths = state.overview?.berths ?? [];
  const box = byId('berths');
  if (berths.length === 0) {
    box.replaceChildren(empty('No berths configured.'));
    return;
  }
  box.replaceChildren(
    ...berths.map((b) => {
      const pct = b.occupancy === null ? null : Math.round(Math.min(1, Math.max(0, b.occupancy)) * 100);
      const ships = b.moored.map((m, i) => {
        const btn = h('button', { type: 'button', class: 'linkish', 'data-mmsi': m.mmsi }, m.name ?? String(m.mmsi));
        return i === 0 ? btn : h('span', {}, ', ', btn);
      });
      const el = h(
        'div',
        { class: 'berth' },
        h(
          'div',
          { class: 'berth-head' },
          h('span', {}, `${b.name}${b.length_m ? ` · ${b.length_m} m` : ''}`),
          h('span', {}, pct === null ? '—' : `${pct} %`),
        ),
        h(
          'div',
          {
            class: 'bar',
            role: 'meter',
            'aria-label': `${b.name} occupancy`,
            'aria-valuemin': 0,
            'aria-valuemax': 100,
            'aria-valuenow': pct ?? 0,
          },
          h('span', { style: `width:${pct ?? 0}%`, 'data-level': occupancyLevel(b.occupancy) }),
        ),
        ships.length ? h('div', { class: 'berth-ships' }, 'Moored: ', ...ships) : null,
      );
      el.addEventListener('click', (ev) => onRowClick(ev, select));
      return el;
    }),
  );
}

export function renderAlerts(state: PortState, select: Select): void {
  const weather = activeWeather(state);
  const wc = byId('weather-count');
  wc.textContent = String(weather.length);
  wc.dataset.nonzero = String(weather.length > 0);
  byId('weather').replaceChildren(
    ...(weather.length
      ? weather.map((w) =>
          h(
            'div',
            { class: 'alert' },
            h('span', { class: 'icon', 'aria-hidden': 'true' }, '⚠'),
            h('span', { class: 'what' }, `${humanize(w.kind)}${w.zone ? ` · ${w.zone}` : ''}`),
            h('span', { class: 'when' }, formatClock(w.event_time)),
            h(
              'span',
              { class: 'detail' },
              `${w.value ?? '—'} (limit ${w.limit ?? '—'})${w.station ? ` at ${w.station}` : ''}`,
            ),
          ),
        )
      : [empty('No active weather alerts.')]),
  );
  const anomalies = recentAnomalies(state);
  byId('anomaly-count').textContent = String(anomalies.length);
  const box = byId('anomalies');
  if (!anomalies.length) {
    box.replaceChildren(empty('No anomalies in the last 24 h.'));
    return;
  }
  const list = h(
    'ul',
    { class: 'rows' },
    ...anomalies.map((a) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: 'row', 'data-mmsi': a.mmsi },
          h('span', { class: 'name' }, `${humanize(a.kind)} · ${a.name ?? a.mmsi}`),
          h('span', { class: 'value' }, formatClock(a.event_time)),
          h('span', { class: 'meta' }, `${a.zone ?? 'Outside zones'}${detailText(a.details)}`),
        ),
      ),
    ),
  );
  list.addEventListener('click', (ev) => onRowClick(ev, select));
  box.replaceChildren(list);
}

/** The "Safety messages" panel: text, sender, time, broadcast or addressee.
 * A located message is a button that shows it on the map (`pick`). */
export function renderSafety(state: PortState, pick: (m: SafetyMessage) => void): void {
  const messages = recentSafety(state);
  const count = byId('safety-count');
  count.textContent = String(messages.length);
  count.dataset.nonzero = String(messages.length > 0);
  const box = byId('safety');
  if (!messages.length) {
    box.replaceChildren(empty('No safety messages in the last 24 h.'));
    return;
  }
  const byKey = new Map(messages.map((m) => [m.id, m]));
  const list = h(
    'ul',
    { class: 'rows' },
    ...messages.map((m) => {
      const located = typeof m.lat === 'number' && typeof m.lon === 'number';
      const parts = [
        h('span', { class: 'name safety-text' }, m.text || '(empty)'),
        h('span', { class: 'value' }, formatClock(m.event_time)),
        h('span', { class: 'meta' }, `${safetyRoute(m)}${located ? '' : ' · position unknown'}`),
      ];
      return h(
        'li',
        {},
        located
          ? h('button', { type: 'button', class: 'row', 'data-safety': m.id, title: 'Show on the map' }, ...parts)
          : h('div', { class: 'row' }, ...parts),
      );
    }),
  );
  list.addEventListener('click', (ev) => {
    const btn = (ev.target as HTMLElement).closest<HTMLElement>('[data-safety]');
    const m = btn?.dataset.safety ? byKey.get(btn.dataset.safety) : undefined;
    if (m) pick(m);
  });
  box.replaceChildren(list);
}

/** A short text for an anomaly's free-form details object. */
export function detailText(d: unknown): string {
  if (d === null || d === undefined) return '';
  if (typeof d === 'string') return ` · ${d}`;
  if (typeof d !== 'object') return ` · ${String(d)}`;
  const parts = Object.entries(d as Record<string, unknown>)
    .filter(([, v]) => v !== null && typeof v !== 'object')
    .slice(0, 3)
    .map(([k, v]) => `${k.replace(/_/g, ' ')} ${typeof v === 'number' ? Math.round(v * 10) / 10 : String(v)}`);
  return parts.length ? ` · ${parts.join(', ')}` : '';
}

const GLYPH_SVG: Record<string, string> = {
  'Under way': 'M7 1 L11 12 L7 9.5 L3 12 Z',
  Moored: 'M7 1 L10 4.5 L10 13 L4 13 L4 4.5 Z',
  Anchored: 'M7 2 L11.5 7 L7 12 L2.5 7 Z',
  'Stopped / unknown': 'M7 3.5 A3.5 3.5 0 1 1 6.99 3.5 Z',
};

export function renderLegend(): void {
  const svgNs = 'http://www.w3.org/2000/svg';
  const glyph = (d: string) => {
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', '0 0 14 14');
    svg.setAttribute('aria-hidden', 'true');
    const p = document.createElementNS(svgNs, 'path');
    p.setAttribute('d', d);
    p.setAttribute('fill', '#cfe3f5');
    svg.append(p);
    return svg;
  };
  const levels = (Object.keys(CONGESTION_COLORS) as CongestionLevel[]).map((l) =>
    h('span', { class: 'item' }, h('span', { class: 'swatch-box', style: `background:${CONGESTION_COLORS[l]}` }), humanize(l)),
  );
  const moves = Object.entries(GLYPH_SVG).map(([label, d]) => h('span', { class: 'item' }, glyph(d), label));
  const shown: TypeGroup[] = ['cargo', 'tanker', 'passenger', 'tug', 'pilot', 'fishing', 'pleasure', 'hsc', 'other'];
  const types = shown.map((t) =>
    h('span', { class: 'item' }, h('span', { class: 'swatch-box', style: `background:${TYPE_COLORS[t]}` }), TYPE_LABELS[t]),
  );
  byId('legend-body').replaceChildren(
    h('h3', {}, 'Zone congestion'),
    h('div', { class: 'legend-grid', style: 'grid-template-columns:repeat(4,auto)' }, ...levels),
    h('h3', {}, 'Movement'),
    h('div', { class: 'legend-grid', style: 'grid-template-columns:repeat(2,auto)' }, ...moves),
    h('h3', {}, 'Vessel type'),
    h('div', { class: 'legend-grid' }, ...types),
  );
}
