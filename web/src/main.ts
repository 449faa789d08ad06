// PortTrack live map: wiring of state, map layers, panels and the stream.
//
// Data flow: snapshots (/vessels, /zones, /overview) fill the state; the SSE
// stream merges events into it (state.ts); redraws are coalesced to at most
// a few per second, so a burst of thousands of vessel events costs one draw.

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './styles.css';
import { fetchAllVessels, fetchCoastline, fetchConfig, fetchOverview, fetchVessel, fetchZones } from './api';
import { renderDetails, renderError, renderLoading } from './details';
import { byId, h } from './dom';
import { formatAge } from './format';
import { renderAlerts, renderBerths, renderLegend, renderMoves, renderQueue, renderSafety } from './panels';
import {
  applyEvent,
  countVessels,
  createState,
  isStale,
  locatedSafety,
  pruneVessels,
  recentSafety,
  replaceVessels,
  safetyRoute,
  type PortState,
} from './state';
import { LiveStream } from './stream';
import { congestionColor, zoneStyle, zoneSummary } from './style';
import { syntheticVessels } from './synthetic';
import type { SafetyMessage, StreamState, VesselFeature, ZoneFeature } from './types';
import { VesselLayer } from './vesselLayer';

performance.mark('porttrack-start');

const params = new URLSearchParams(location.search);
const synthetic = Number(params.get('synthetic') ?? 0) || 0;
const state: PortState = createState();
const mapEl = byId('map');

// ---- map and layers -------------------------------------------------------

const map = L.map(mapEl, {
  zoomControl: true,
  minZoom: 8,
  maxZoom: 17,
  zoomSnap: 0.25,
  attributionControl: true,
  // The vessels are on our canvas; zones and track use SVG (few features).
  preferCanvas: false,
});
map.attributionControl.setPrefix(false);
map.attributionControl.addAttribution('Land: Natural Earth · Zones: PortTrack geography');
L.control.scale({ imperial: false, position: 'bottomright' }).addTo(map);
map.fitBounds([
  [51.84, 3.58],
  [52.14, 4.5],
]);
map.createPane('land').style.zIndex = '250';
map.createPane('vessels').style.zIndex = '450';
map.createPane('track').style.zIndex = '440';

const zoneLayer = L.geoJSON(undefined, {
  style: (f) => {
    const p = (f as ZoneFeature).properties;
    return zoneStyle(p.kind, p.congestion?.level);
  },
  interactive: false,
}).addTo(map);
const zoneLabels = new Map<string, HTMLElement>();
const zonePaths = new Map<string, L.Path>();

const vesselLayer = new VesselLayer().addTo(map);
const trackLayer = L.layerGroup([], { pane: 'track' }).addTo(map);
// Safety messages whose sender was located, above the vessels (markerPane).
const safetyLayer = L.layerGroup().addTo(map);
const safetyMarkers = new Map<string, L.Marker>();

function updateZoomClass(): void {
  mapEl.classList.toggle('map-z-low', map.getZoom() < 11.5);
}
map.on('zoomend', updateZoomClass);
updateZoomClass();

// ---- first render measurement -------------------------------------------

let firstRenderMs: number | null = null;
const drawTimes: number[] = [];
vesselLayer.onDraw = ({ drawn, ms }) => {
  drawTimes.push(ms);
  if (drawTimes.length > 500) drawTimes.shift();
  mapEl.dataset.vesselCount = String(vesselLayer.count);
  if (firstRenderMs === null && drawn > 0) {
    performance.mark('porttrack-first-vessels-drawn');
    firstRenderMs = performance.now();
    performance.measure('porttrack-time-to-first-render', { end: 'porttrack-first-vessels-drawn' });
  }
};

// ---- zones ----------------------------------------------------------------

function zoneLabel(f: ZoneFeature): HTMLElement {
  const p = f.properties;
  const el = h('div', { 'data-zone': p.name });
  fillZoneLabel(el, f);
  return el;
}

function fillZoneLabel(el: HTMLElement, f: ZoneFeature): void {
  const p = f.properties;
  const c = p.congestion ?? null;
  el.dataset.level = c?.level ?? 'none';
  const summary = zoneSummary(p.kind, c);
  const name = h('span', { class: 'zn' }, p.name);
  if (!summary) {
    el.replaceChildren(name);
    return;
  }
  const lvl = h('span', { class: 'lvl', style: `background:${congestionColor(c?.level)}` });
  el.replaceChildren(name, h('span', { class: 'zs' }, lvl, summary));
}

function drawZones(): void {
  zoneLayer.clearLayers();
  zoneLabels.clear();
  zonePaths.clear();
  const zones = state.zones?.features ?? [];
  const portLimits = zones.find((z) => z.properties.kind === 'port_limits');
  if (portLimits) byId('port-name').textContent = portLimits.properties.name;
  // Largest first so berths and basins stay on top of the areas they lie in.
  const ordered = [...zones].sort((a, b) => area(b) - area(a));
  for (const f of ordered) {
    zoneLayer.addData(f as GeoJSON.Feature);
  }
  zoneLayer.eachLayer((layer) => {
    const f = (layer as L.Polygon).feature as ZoneFeature;
    const p = f.properties;
    zonePaths.set(p.name, layer as L.Path);
    if (p.kind === 'port_limits') return;
    const el = zoneLabel(f);
    zoneLabels.set(p.name, el);
    (layer as L.Polygon).bindTooltip(el, {
      permanent: true,
      direction: 'center',
      className: `zone-label zone-label--${p.kind}`,
      interactive: false,
    });
  });
}

function area(f: ZoneFeature): number {
  const b = L.geoJSON(f as GeoJSON.Feature).getBounds();
  return (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth());
}

function updateZone(name: string): void {
  const f = state.zones?.features.find((z) => z.properties.name === name);
  if (!f) return;
  zonePaths.get(name)?.setStyle(zoneStyle(f.properties.kind, f.properties.congestion?.level));
  const el = zoneLabels.get(name);
  if (el) fillZoneLabel(el, f);
}

// ---- vessels and header ----------------------------------------------------

let vesselsDirty = false;
let lastVesselFlush = 0;
const VESSEL_FLUSH_MS = 250;

function markVesselsDirty(): void {
  if (vesselsDirty) return;
  vesselsDirty = true;
  const wait = Math.max(0, VESSEL_FLUSH_MS - (performance.now() - lastVesselFlush));
  window.setTimeout(flushVessels, wait);
}

function flushVessels(): void {
  vesselsDirty = false;
  lastVesselFlush = performance.now();
  vesselLayer.setVessels([...state.vessels.values()]);
  mapEl.dataset.vesselCount = String(state.vessels.size);
  const c = countVessels(state.vessels.values());
  byId('count-vessels').textContent = c.vessels.toLocaleString('en');
  byId('count-under_way').textContent = c.under_way.toLocaleString('en');
  byId('count-anchored').textContent = c.anchored.toLocaleString('en');
  byId('count-moored').textContent = c.moored.toLocaleString('en');
}

// ---- panels ---------------------------------------------------------------

function renderPanels(): void {
  const now = Date.now();
  renderQueue(state, selectVessel, now);
  renderMoves(state, selectVessel);
  renderBerths(state, selectVessel);
  renderAlerts(state, selectVessel);
  renderSafetyMessages();
}

// ---- safety messages ------------------------------------------------------

/** Redraws the panel and the markers (one per located message, keyed by id). */
function renderSafetyMessages(): void {
  renderSafety(state, showSafety);
  const shown = locatedSafety(recentSafety(state));
  const keep = new Set(shown.map((m) => m.id));
  for (const [id, marker] of safetyMarkers) {
    if (!keep.has(id)) {
      safetyLayer.removeLayer(marker);
      safetyMarkers.delete(id);
    }
  }
  for (const m of shown) {
    if (safetyMarkers.has(m.id)) continue;
    const icon = L.divIcon({ className: 'safety-marker', html: '<span aria-hidden="true">!</span>', iconSize: [20, 20] });
    const tip = h('div', {}, h('strong', {}, m.text || '(empty)'), h('div', {}, safetyRoute(m)));
    const marker = L.marker([m.lat, m.lon], { icon, title: `Safety message: ${m.text}`, keyboard: false })
      .bindTooltip(tip, { className: 'vessel-tip', direction: 'top', offset: [0, -10] })
      .addTo(safetyLayer);
    safetyMarkers.set(m.id, marker);
  }
  mapEl.dataset.safetyCount = String(safetyMarkers.size);
}

function showSafety(m: SafetyMessage): void {
  if (typeof m.lat !== 'number' || typeof m.lon !== 'number') return;
  map.panTo([m.lat, m.lon]);
  safetyMarkers.get(m.id)?.openTooltip();
}

// ---- selection ------------------------------------------------------------

let selected: number | null = null;
let detailsAbort: AbortController | null = null;
const detailsEl = byId('vessel-details');

async function selectVessel(mmsi: number): Promise<void> {
  const v = state.vessels.get(mmsi);
  selected = mmsi;
  vesselLayer.setSelected(mmsi);
  const wasHidden = detailsEl.hidden;
  detailsEl.hidden = false;
  // Keyboard users land in the panel they opened (Escape closes it).
  if (wasHidden) detailsEl.focus({ preventScroll: true });
  detailsEl.dataset.mmsi = String(mmsi);
  detailsEl.dataset.loaded = 'false';
  trackLayer.clearLayers();
  if (v) {
    renderLoading(v.properties);
    revealBesidePanel(L.latLng(v.geometry.coordinates[1], v.geometry.coordinates[0]));
  }
  detailsAbort?.abort();
  const abort = new AbortController();
  detailsAbort = abort;
  if (synthetic) {
    if (v) renderDetails({ vessel: v.properties, track: [], port_calls: [], cargo: [], services: [] }, Date.now());
    detailsEl.dataset.loaded = 'true';
    return;
  }
  try {
    const d = await fetchVessel(mmsi, abort.signal);
    if (selected !== mmsi) return;
    renderDetails(d, Date.now());
    detailsEl.dataset.loaded = 'true';
    if (d.track.length > 1) {
      const pts = d.track.map((p) => L.latLng(p.lat, p.lon));
      L.polyline(pts, { pane: 'track', color: '#0b2236', weight: 6, opacity: 0.8, interactive: false }).addTo(trackLayer);
      L.polyline(pts, { pane: 'track', color: '#7dd3fc', weight: 2.5, opacity: 0.95, dashArray: '1 0', interactive: false }).addTo(trackLayer);
      for (const p of [pts[0]]) {
        L.circleMarker(p, { pane: 'track', radius: 3, color: '#7dd3fc', fillColor: '#0b2236', fillOpacity: 1, weight: 2 }).addTo(trackLayer);
      }
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') return;
    if (!v) byId('details-title').textContent = `MMSI ${mmsi}`;
    renderError(`Could not load details: ${(e as Error).message}`);
    detailsEl.dataset.loaded = 'error';
  }
}

/** Pans so the vessel is not hidden under the details panel: if it lies
 * behind the panel (or off screen), it is moved to the middle of the part
 * of the map the panel leaves free. */
function revealBesidePanel(ll: L.LatLng): void {
  const size = map.getSize();
  const p = map.latLngToContainerPoint(ll);
  const mapBox = mapEl.getBoundingClientRect();
  const panelRight = detailsEl.getBoundingClientRect().right - mapBox.left + 16;
  const freeLeft = Math.min(panelRight, size.x * 0.6);
  const visible = p.x > freeLeft && p.x < size.x - 16 && p.y > 16 && p.y < size.y - 16;
  if (visible) return;
  const target = L.point((freeLeft + size.x) / 2, size.y / 2);
  map.panBy(p.subtract(target), { animate: true, duration: 0.4 });
}

function closeDetails(): void {
  selected = null;
  detailsAbort?.abort();
  vesselLayer.setSelected(null);
  trackLayer.clearLayers();
  detailsEl.hidden = true;
  delete detailsEl.dataset.mmsi;
}

byId('details-close').addEventListener('click', closeDetails);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !detailsEl.hidden) closeDetails();
});

map.on('click', (e: L.LeafletMouseEvent) => {
  const hit = vesselLayer.hitTest(e.containerPoint);
  if (hit) void selectVessel(hit.properties.mmsi);
});
// A pointer cursor over vessels, so the map feels clickable where it is.
map.on('mousemove', (e: L.LeafletMouseEvent) => {
  mapEl.style.cursor = vesselLayer.hitTest(e.containerPoint) ? 'pointer' : '';
});

// ---- stream state, age, banner -------------------------------------------

const statusEl = byId('stream-status');
const bannerEl = byId('banner');
let streamState: StreamState = 'reconnecting';

function setStreamState(s: StreamState): void {
  streamState = s;
  mapEl.dataset.streamState = s;
  statusEl.dataset.state = s;
  tick();
}

function showBanner(kind: 'error' | 'warn' | 'info' | null, text = ''): void {
  if (!kind) {
    bannerEl.hidden = true;
    return;
  }
  bannerEl.hidden = false;
  bannerEl.dataset.kind = kind;
  if (bannerEl.textContent !== text) bannerEl.textContent = text;
}

function tick(): void {
  const now = Date.now();
  byId('age').textContent = state.lastUpdate ? formatAge(now - state.lastUpdate) : '—';
  const stale = !synthetic && isStale(state.lastUpdate, now);
  statusEl.dataset.stale = String(stale);
  const label = synthetic
    ? 'Synthetic data'
    : streamState === 'live'
      ? stale
        ? 'Live · stale'
        : 'Live'
      : streamState === 'reconnecting'
        ? 'Reconnecting…'
        : 'Stream down';
  const labelEl = byId('stream-label');
  if (labelEl.textContent !== label) labelEl.textContent = label;
  if (synthetic) showBanner('info', `Synthetic mode: ${synthetic.toLocaleString('en')} generated vessels, no live data`);
  else if (loadError) showBanner('error', loadError);
  else if (streamState === 'down') showBanner('error', 'Live stream is down: the map is not updating. Retrying…');
  else if (streamState === 'reconnecting' && state.lastUpdate) showBanner('warn', 'Live stream interrupted: reconnecting…');
  else if (stale) showBanner('warn', `No data for ${formatAge(now - state.lastUpdate).replace(' ago', '')}: the map may be out of date.`);
  else showBanner(null);
}

// ---- loading --------------------------------------------------------------

let loadError: string | null = null;

async function loadSnapshots(): Promise<void> {
  const [zones, overview, vessels] = await Promise.allSettled([
    fetchZones(),
    synthetic ? Promise.resolve(null) : fetchOverview(),
    synthetic ? Promise.resolve({ features: syntheticVessels(synthetic), total: synthetic }) : fetchAllVessels(),
  ]);
  const errors: string[] = [];
  if (zones.status === 'fulfilled') {
    state.zones = zones.value;
    drawZones();
  } else if (!synthetic) errors.push((zones.reason as Error).message);
  if (overview.status === 'fulfilled') {
    state.overview = overview.value;
  } else errors.push((overview.reason as Error).message);
  if (vessels.status === 'fulfilled') {
    replaceVessels(state, vessels.value.features);
    flushVessels();
  } else errors.push((vessels.reason as Error).message);
  loadError = errors.length ? `Could not load port data (${errors.join('; ')}). Retrying…` : null;
  if (!errors.length) state.lastUpdate = Math.max(state.lastUpdate, Date.now());
  renderPanels();
  tick();
}

async function refreshOverview(): Promise<void> {
  try {
    state.overview = await fetchOverview();
    renderPanels();
  } catch (e) {
    console.warn('overview refresh failed', e);
  }
}

async function loadBasemap(): Promise<void> {
  const [config, coast] = await Promise.all([fetchConfig(), fetchCoastline()]);
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { pane: 'tilePane', maxZoom: 19, attribution: 'Basemap tiles' }).addTo(map);
  } else if (config.style_url) {
    // A vector style needs MapLibre; the Leaflet map keeps its offline layers.
    console.info('config.json style_url is set but not used by the Leaflet map; set tile_url for a raster basemap');
  }
  if (coast) {
    L.geoJSON(coast as GeoJSON.FeatureCollection, {
      pane: 'land',
      interactive: false,
      style: { color: '#3b5364', weight: 1, fillColor: config.tile_url ? 'transparent' : '#1f2d33', fillOpacity: 1 },
    }).addTo(map);
  }
}

// ---- start ----------------------------------------------------------------

renderLegend();
// On short screens the legend starts folded so it does not cover the anchorages.
if (window.innerHeight < 900) byId<HTMLDetailsElement>('legend').removeAttribute('open');
void loadBasemap();
void loadSnapshots().then(() => {
  if (loadError) {
    const retry = window.setInterval(() => {
      void loadSnapshots().then(() => {
        if (!loadError) window.clearInterval(retry);
      });
    }, 5000);
  }
});

if (!synthetic) {
  const stream = new LiveStream('api/v1/stream', {
    onState: setStreamState,
    onReopen: () => void loadSnapshots(),
    onEvent: (type, data, id) => {
      const r = applyEvent(state, type, data, Date.now(), id);
      switch (r.kind) {
        case 'vessel':
          if (r.changed) markVesselsDirty();
          break;
        case 'congestion':
          updateZone(r.zone);
          break;
        case 'alert':
          renderAlerts(state, selectVessel);
          renderSafetyMessages();
          break;
        case 'reset':
          void loadSnapshots();
          break;
        default:
          break;
      }
    },
  });
  stream.start();
  window.setInterval(() => {
    void refreshOverview();
    if (pruneVessels(state, Date.now()) > 0) markVesselsDirty();
  }, 30_000);
} else {
  setStreamState('down');
}
window.setInterval(tick, 1000);
// Waiting times in the queue grow with the clock.
window.setInterval(() => renderQueue(state, selectVessel, Date.now()), 15_000);

// ---- test hooks -------------------------------------------------------------

function vesselScreenPoint(mmsi: number): { x: number; y: number; inView: boolean } | null {
  const v = state.vessels.get(mmsi);
  if (!v) return null;
  const p = map.latLngToContainerPoint([v.geometry.coordinates[1], v.geometry.coordinates[0]]);
  const r = mapEl.getBoundingClientRect();
  const size = map.getSize();
  return { x: r.left + p.x, y: r.top + p.y, inView: p.x >= 0 && p.y >= 0 && p.x <= size.x && p.y <= size.y };
}

declare global {
  interface Window {
    __porttrack: unknown;
  }
}

window.__porttrack = {
  get stats() {
    return state.stats;
  },
  get vesselCount() {
    return vesselLayer.count;
  },
  get firstRenderMs() {
    return firstRenderMs;
  },
  get drawTimes() {
    return [...drawTimes];
  },
  mmsis: () => [...state.vessels.keys()],
  vessel: (mmsi: number): VesselFeature | undefined => state.vessels.get(mmsi),
  selectVessel,
  closeDetails,
  vesselScreenPoint,
  zone: (name: string) => {
    const el = zoneLabels.get(name);
    return el ? { level: el.dataset.level, text: el.textContent } : null;
  },
  zones: () => [...zoneLabels.entries()].map(([name, el]) => ({ name, level: el.dataset.level, text: el.textContent })),
  map,
};
