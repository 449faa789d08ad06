#!/usr/bin/env node
// Development stand-in for `porttrack serve`: the read API v1 contract
// (docs/api.md) over fixture data generated from the real port geography,
// a fake live stream, and the built page from web/dist.
//
//   node dev/mock-server.mjs [port]        (default 8787, or $MOCK_PORT)
//   MOCK_VESSELS=400  how many vessels     MOCK_SEED=7  the fixture's seed
//
// Dev-only controls: POST /dev/stream/drop?seconds=N closes every stream and
// answers 503 to new ones for N seconds (to see the "stream down" state).
// This is a mock for developing the page, not a second implementation of
// the API: the real one is the `api` crate.
import http from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, join, dirname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const webRoot = join(here, '..');
const dist = join(webRoot, 'dist');
const geography = JSON.parse(readFileSync(join(webRoot, '..', 'processors', 'ports', 'rotterdam.geojson'), 'utf8'));
const coastline = JSON.parse(readFileSync(join(webRoot, 'public', 'coastline.geojson'), 'utf8'));

const PORT = Number(process.argv[2] ?? process.env.MOCK_PORT ?? 8787);
const N = Number(process.env.MOCK_VESSELS ?? 400);
let seed = Number(process.env.MOCK_SEED ?? 7) >>> 0;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---- geometry helpers ----
const zones = geography.features;
const ring = (z) => (z.geometry.type === 'Polygon' ? z.geometry.coordinates[0] : z.geometry.coordinates[0][0]);
function inRing(pt, r) {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i];
    const [xj, yj] = r[j];
    if (yi > pt[1] !== yj > pt[1] && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
function pointIn(z) {
  const r = ring(z);
  const xs = r.map((p) => p[0]);
  const ys = r.map((p) => p[1]);
  for (let k = 0; k < 200; k++) {
    const p = [Math.min(...xs) + rand() * (Math.max(...xs) - Math.min(...xs)), Math.min(...ys) + rand() * (Math.max(...ys) - Math.min(...ys))];
    if (inRing(p, r)) return p;
  }
  return r[0];
}
const smallestZone = (p) => {
  let best = null;
  let bestA = Infinity;
  for (const z of zones) {
    const r = ring(z);
    if (!inRing(p, r)) continue;
    const xs = r.map((q) => q[0]);
    const ys = r.map((q) => q[1]);
    const a = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    if (a < bestA) {
      bestA = a;
      best = z;
    }
  }
  return best;
};
const byKind = (k) => zones.filter((z) => z.properties.kind === k);

// ---- fixture fleet ----
const PREFIX = ['MSC', 'MAERSK', 'CMA CGM', 'COSCO', 'EVER', 'ONE', 'HMM', 'STOLT', 'NORDIC', 'SEAWAYS', 'ATLANTIC', 'BW', 'TORM', 'FRISIAN', 'SMIT', 'BOKA', 'STENA', 'ARKLOW', 'WILSON', 'EEMS'];
const SUFFIX = ['AURORA', 'BOREAS', 'CORAL', 'DELFT', 'ELBE', 'FALCON', 'GEMINI', 'HORIZON', 'IRIS', 'JADE', 'KESTREL', 'LYRA', 'MERIDIAN', 'NOVA', 'ORION', 'PEARL', 'QUEST', 'RHINE', 'SIRIUS', 'TIDE', 'UNITY', 'VEGA', 'WAAL', 'ZEPHYR', 'MAAS', 'SCHELDE', 'POLARIS', 'ATLAS'];
const TYPES = [
  ['cargo', 70, 0.45, [140, 400]],
  ['tanker', 80, 0.25, [90, 330]],
  ['tug', 52, 0.1, [25, 40]],
  ['passenger', 60, 0.03, [120, 240]],
  ['pilot', 50, 0.04, [18, 25]],
  ['fishing', 30, 0.04, [20, 45]],
  ['pleasure', 37, 0.04, [8, 20]],
  ['hsc', 40, 0.02, [30, 60]],
  ['other', 90, 0.03, [30, 120]],
];
function pickType() {
  let r = rand();
  for (const t of TYPES) {
    r -= t[2];
    if (r < 0) return t;
  }
  return TYPES[0];
}
const NOW0 = Date.now();
const vessels = new Map();
const calls = [];
const anchorages = byKind('anchorage');
const channels = byKind('approach_channel');
const basins = byKind('basin');
const berths = byKind('berth');
let callSeq = 1000;
for (let i = 0; i < N; i++) {
  const [group, shipType, , [lmin, lmax]] = pickType();
  const mmsi = 244000000 + i * 37 + Math.floor(rand() * 30);
  const r = rand();
  let movement;
  let pos;
  let sog;
  let heading;
  if (r < 0.2 && group !== 'tug' && group !== 'pilot') {
    movement = 'anchored';
    pos = pointIn(pick(anchorages));
    sog = rand() * 0.3;
    heading = 200 + Math.floor(rand() * 60);
  } else if (r < 0.42 && (group === 'cargo' || group === 'tanker' || group === 'other')) {
    movement = 'moored';
    pos = pointIn(pick(rand() < 0.5 ? berths : basins));
    sog = 0;
    heading = rand() < 0.5 ? 90 : 270;
  } else if (r < 0.47) {
    movement = 'stopped';
    pos = pointIn(pick(basins));
    sog = 0.1;
    heading = null;
  } else {
    movement = 'under_way';
    const inPort = rand() < 0.55;
    pos = inPort ? pointIn(pick([...channels, ...basins])) : [3.35 + rand() * 0.7, 51.75 + rand() * 0.5];
    sog = 4 + rand() * 12;
    heading = inPort ? (rand() < 0.5 ? 93 : 273) + Math.floor(rand() * 8 - 4) : Math.floor(rand() * 360);
  }
  const name = `${pick(PREFIX)} ${pick(SUFFIX)}${rand() < 0.3 ? ` ${1 + Math.floor(rand() * 9)}` : ''}`;
  const length = Math.round(lmin + rand() * (lmax - lmin));
  const z = smallestZone(pos);
  let portCall = null;
  if ((movement === 'anchored' || movement === 'moored') && (group === 'cargo' || group === 'tanker' || group === 'other')) {
    const arrived = NOW0 - (2 + rand() * 30) * 3600e3;
    const anchored = arrived + 1800e3;
    const berth = movement === 'moored' ? (z && z.properties.kind === 'berth' ? z.properties.name : pick(berths).properties.name) : null;
    const berthed = movement === 'moored' ? anchored + (1 + rand() * 10) * 3600e3 : null;
    const c = {
      id: String(++callSeq), mmsi, name, phase: movement === 'moored' ? 'berthed' : 'anchored',
      arrived_at: iso(arrived), anchored_at: iso(anchored),
      waiting_time_s: berthed ? Math.round((berthed - anchored) / 1000) : 0,
      berth, berthed_at: berthed ? iso(Math.min(berthed, NOW0 - 600e3)) : null, unberthed_at: null,
      service_time_s: 0, departed_at: null,
      teu_loaded: group === 'cargo' ? Math.floor(rand() * 2000) : null,
      teu_discharged: group === 'cargo' ? Math.floor(rand() * 2500) : null,
      services: [{ event_id: `s-${mmsi}-1`, at: iso(arrived), kind: 'pilot_boarded', resource: 'pilot 117', berth: null }],
      last_event_time: iso(NOW0 - rand() * 3600e3),
    };
    calls.push(c);
    portCall = { id: c.id, phase: c.phase };
  }
  vessels.set(mmsi, {
    mmsi, name, callsign: `PD${(1000 + i).toString(36).toUpperCase()}`, imo: group === 'cargo' || group === 'tanker' ? 9000000 + i * 13 : null,
    ship_type: shipType, type_group: group, length_m: length, beam_m: Math.round(length / 6.5), draught_m: Math.round((3 + rand() * 12) * 10) / 10,
    destination: pick(['NLRTM', 'ROTTERDAM', 'NL RTM', 'DEHAM', 'GBFXT', 'BEANR']), eta: iso(NOW0 + rand() * 48 * 3600e3),
    lat: pos[1], lon: pos[0], sog_kn: Math.round(sog * 10) / 10, cog_deg: heading ?? Math.floor(rand() * 360), heading_deg: heading,
    nav_status: movement === 'anchored' ? 1 : movement === 'moored' ? 5 : 0, movement,
    event_time: iso(NOW0 - rand() * 120e3), zone: z?.properties.name ?? null, zone_kind: z?.properties.kind ?? null, port_call: portCall,
  });
}
// Some completed calls today, for arrivals/departures.
for (let i = 0; i < 9; i++) {
  const v = pick([...vessels.values()].filter((x) => x.movement === 'under_way'));
  const arrived = NOW0 - (10 + rand() * 10) * 3600e3;
  calls.push({
    id: String(++callSeq), mmsi: v.mmsi, name: v.name, phase: 'departed', arrived_at: iso(arrived), anchored_at: null, waiting_time_s: 0,
    berth: pick(berths).properties.name, berthed_at: iso(arrived + 2 * 3600e3), unberthed_at: iso(arrived + 9 * 3600e3),
    service_time_s: 7 * 3600, departed_at: iso(arrived + 10 * 3600e3), teu_loaded: 800, teu_discharged: 950,
    services: [], last_event_time: iso(arrived + 10 * 3600e3),
  });
}
const feature = (v) => ({ type: 'Feature', id: v.mmsi, geometry: { type: 'Point', coordinates: [v.lon, v.lat] }, properties: v });

// ---- congestion ----
const LEVELS = ['free', 'moderate', 'heavy', 'severe'];
const congestion = new Map();
function computeCongestion(z) {
  const name = z.properties.name;
  const present = [...vessels.values()].filter((v) => v.zone === name);
  const waiting = present.filter((v) => v.movement === 'anchored').length;
  const moored = present.filter((v) => v.movement === 'moored').length;
  const occ = z.properties.kind === 'berth' ? Math.min(1, moored / 4) : null;
  const score = z.properties.kind === 'anchorage' ? waiting / 8 : z.properties.kind === 'berth' ? occ * 3.2 : present.length / 10;
  return {
    level: LEVELS[Math.min(3, Math.floor(score))], vessels_present: present.length, queue_length: waiting, waiting_now_count: waiting,
    waiting_p50_s: waiting ? 3600 * (2 + Math.floor(rand() * 6)) : null, waiting_p90_s: waiting ? 3600 * (9 + Math.floor(rand() * 8)) : null,
    berth_occupancy: occ, moored_vessels: moored, arrivals_per_hour: Math.round(rand() * 40) / 10, departures_per_hour: Math.round(rand() * 40) / 10,
    snapshot_time: iso(Date.now()),
  };
}
for (const z of zones) congestion.set(z.properties.name, z.properties.kind === 'port_limits' ? null : computeCongestion(z));

// ---- alerts ----
const anomalies = [
  { mmsi: [...vessels.keys()][3], name: [...vessels.values()][3].name, event_time: iso(NOW0 - 40 * 60e3), kind: 'speeding', zone: 'Maasgeul', details: { sog_kn: 19.4, limit_kn: 16 } },
  { mmsi: [...vessels.keys()][11], name: [...vessels.values()][11].name, event_time: iso(NOW0 - 3 * 3600e3), kind: 'ais_gap', zone: 'Eurogeul', details: { gap_s: 1260 } },
  { mmsi: [...vessels.keys()][27], name: [...vessels.values()][27].name, event_time: iso(NOW0 - 5 * 3600e3), kind: 'restricted_zone_entry', zone: 'Nieuwe Maas city reach', details: null },
];
const weather = [
  { zone: 'Maasmond', station: 'Hoek van Holland', event_time: iso(NOW0 - 25 * 60e3), kind: 'wind_gust', value: 21.3, limit: 20, raised: true },
  { zone: 'Maas North Anchorage', station: 'Euro platform', event_time: iso(NOW0 - 70 * 60e3), kind: 'visibility', value: 850, limit: 1000, raised: true },
];

// AIS safety messages (types 12/14), shaped as the api crate's SafetyMessageItem:
// one located by its sender's position, one by the coast station's, one not located.
const safetyMessages = [
  { id: 'ais.nmea-0-1201', event_time: iso(NOW0 - 12 * 60e3), mmsi: [...vessels.keys()][5], name: [...vessels.values()][5].name, addressed: false, dest_mmsi: null, sequence: null, retransmit: null, text: 'MOB TEST', lat: [...vessels.values()][5].lat, lon: [...vessels.values()][5].lon, located_by: 'vessel_position' },
  { id: 'ais.nmea-1-877-2', event_time: iso(NOW0 - 55 * 60e3), mmsi: 2442000, name: 'RWS HOEK VAN HOLLAND', addressed: true, dest_mmsi: [...vessels.keys()][8], sequence: 1, retransmit: false, text: 'ANCHOR CLEAR OF FAIRWAY', lat: 51.98, lon: 4.12, located_by: 'station' },
  { id: 'ais.nmea-2-310', event_time: iso(NOW0 - 4 * 3600e3), mmsi: 2442001, name: null, addressed: false, dest_mmsi: null, sequence: null, retransmit: null, text: 'BUOY MV-7 ADRIFT', lat: null, lon: null, located_by: null },
];
let safetySeq = 2000;

// ---- API ----
function json(res, status, body) {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(s);
}
const err = (res, status, code, message) => json(res, status, { error: { code, message } });

function overview() {
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const queue = [...vessels.values()].filter((v) => v.movement === 'anchored' && v.zone_kind === 'anchorage').map((v) => {
    const c = calls.find((c) => c.mmsi === v.mmsi);
    const at = c?.anchored_at ?? iso(now - 3600e3);
    return { mmsi: v.mmsi, name: v.name, zone: v.zone, anchored_at: at, waiting_s: Math.round((now - Date.parse(at)) / 1000) };
  }).sort((a, b) => b.waiting_s - a.waiting_s);
  const counts = { vessels: vessels.size, under_way: 0, anchored: 0, moored: 0 };
  for (const v of vessels.values()) if (v.movement in counts) counts[v.movement]++;
  return {
    generated_at: iso(now), anchorage_queue: queue,
    arrivals_today: calls.filter((c) => c.arrived_at?.startsWith(today)).sort((a, b) => b.arrived_at.localeCompare(a.arrived_at)),
    departures_today: calls.filter((c) => c.departed_at?.startsWith(today)),
    berths: berths.map((b) => ({
      name: b.properties.name, length_m: b.properties.length_m ?? null, occupancy: congestion.get(b.properties.name)?.berth_occupancy ?? 0,
      moored: [...vessels.values()].filter((v) => v.zone === b.properties.name && v.movement === 'moored').map((v) => ({ mmsi: v.mmsi, name: v.name })),
    })),
    weather_alerts: weather.filter((w) => w.raised), anomalies,
    safety_messages: safetyMessages.filter((m) => Date.parse(m.event_time) >= now - 86400e3).slice(0, 20), counts,
  };
}

function trackOf(v) {
  const pts = [];
  const n = 36;
  const rad = ((v.cog_deg ?? 0) * Math.PI) / 180;
  for (let i = n; i >= 0; i--) {
    const d = v.movement === 'under_way' ? i * 0.004 : i * 0.0015;
    const wig = Math.sin(i / 3) * 0.002;
    pts.push({ t: iso(Date.now() - i * 600e3), lat: v.lat - Math.cos(rad) * d + wig, lon: v.lon - Math.sin(rad) * d * 1.6 - wig, sog_kn: v.sog_kn, cog_deg: v.cog_deg });
  }
  return pts;
}

// ---- stream ----
const clients = new Set();
const history = []; // [{id, type, data}]
let eventId = 0;
let dropUntil = 0;
function emit(type, data) {
  const ev = { id: ++eventId, type, data: JSON.stringify(data) };
  history.push(ev);
  if (history.length > 5000) history.shift();
  for (const c of clients) c.write(`id: ${ev.id}\nevent: ${type}\ndata: ${ev.data}\n\n`);
}
setInterval(() => {
  // Move under-way vessels a step and publish a few of them.
  const moving = [...vessels.values()].filter((v) => v.movement === 'under_way');
  for (const v of moving) {
    const rad = ((v.cog_deg ?? 0) * Math.PI) / 180;
    const step = (v.sog_kn / 3600) / 60; // degrees of latitude per second
    v.lat += Math.cos(rad) * step;
    v.lon += (Math.sin(rad) * step) / Math.cos((v.lat * Math.PI) / 180);
    if (v.lon < 3.3 || v.lon > 4.7 || v.lat < 51.7 || v.lat > 52.3) {
      v.cog_deg = (v.cog_deg + 180) % 360;
      if (v.heading_deg !== null) v.heading_deg = v.cog_deg;
    }
    v.event_time = iso(Date.now());
  }
  for (let i = 0; i < 25 && moving.length; i++) emit('vessel', feature(pick(moving)));
}, 1000);
let congestionTurn = 0;
setInterval(() => {
  // Walk a zone's level up and down so the map visibly changes.
  const cand = zones.filter((z) => z.properties.kind !== 'port_limits');
  const z = cand[congestionTurn++ % cand.length];
  const c = { ...(congestion.get(z.properties.name) ?? computeCongestion(z)) };
  const li = LEVELS.indexOf(c.level);
  c.level = LEVELS[(li + 1) % LEVELS.length];
  c.queue_length = (c.queue_length ?? 0) + 1;
  c.waiting_now_count = c.queue_length;
  c.vessels_present = (c.vessels_present ?? 0) + 1;
  if (c.berth_occupancy !== null) c.berth_occupancy = [0.5, 0.75, 0.9, 1][li];
  c.snapshot_time = iso(Date.now());
  congestion.set(z.properties.name, c);
  emit('congestion', { zone: z.properties.name, congestion: c });
}, Number(process.env.MOCK_CONGESTION_MS ?? 4000));
setInterval(() => emit('heartbeat', { generated_at: iso(Date.now()) }), 15000);
setInterval(() => {
  const v = pick([...vessels.values()].filter((x) => x.movement === 'under_way'));
  const a = { mmsi: v.mmsi, name: v.name, event_time: iso(Date.now()), kind: 'speeding', zone: v.zone, details: { sog_kn: v.sog_kn + 4, limit_kn: 16 } };
  anomalies.unshift(a);
  anomalies.length = Math.min(anomalies.length, 50);
  emit('alert', { kind: 'anomaly', item: a });
}, 25000);

setInterval(() => {
  const v = pick([...vessels.values()].filter((x) => x.movement === 'under_way'));
  const m = { id: `ais.nmea-0-${++safetySeq}`, event_time: iso(Date.now()), mmsi: v.mmsi, name: v.name, addressed: false, dest_mmsi: null, sequence: null, retransmit: null, text: 'SECURITE VESSEL RESTRICTED IN ABILITY TO MANOEUVRE', lat: v.lat, lon: v.lon, located_by: 'vessel_position' };
  safetyMessages.unshift(m);
  safetyMessages.length = Math.min(safetyMessages.length, 200);
  emit('alert', { kind: 'safety', item: m });
}, Number(process.env.MOCK_SAFETY_MS ?? 40000));

// ---- static files ----
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.geojson': 'application/geo+json', '.png': 'image/png', '.svg': 'image/svg+xml' };
function serveStatic(res, path) {
  const rel = normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '');
  const file = join(dist, rel);
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) return err(res, 404, 'not_found', `no such file ${path}`);
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host ?? 'localhost'}`);
  const p = url.pathname;
  if (p === '/api/v1/vessels') {
    const limit = Number(url.searchParams.get('limit') ?? 5000);
    if (!Number.isInteger(limit) || limit < 1 || limit > 20000) return err(res, 400, 'bad_request', 'limit must be 1..20000');
    const all = [...vessels.values()].sort((a, b) => a.mmsi - b.mmsi);
    const start = Number(url.searchParams.get('cursor') ?? 0);
    const page = all.slice(start, start + limit);
    return json(res, 200, { type: 'FeatureCollection', features: page.map(feature), total: all.length, next_cursor: start + limit < all.length ? String(start + limit) : null, generated_at: iso(Date.now()) });
  }
  const m = p.match(/^\/api\/v1\/vessels\/([^/]+)$/);
  if (m) {
    if (!/^\d{9}$/.test(m[1])) return err(res, 400, 'bad_request', 'mmsi must be 9 digits');
    const v = vessels.get(Number(m[1]));
    if (!v) return err(res, 404, 'not_found', `unknown vessel ${m[1]}`);
    const pc = calls.filter((c) => c.mmsi === v.mmsi);
    // Shapes as in the api crate's model.rs (CargoItem, ServiceItem).
    const cargo = v.type_group === 'cargo' && pc.length ? [
      { event_id: `c-${v.mmsi}-2`, event_time: pc[0].last_event_time, mmsi: v.mmsi, voyage: 'V042', berth: pc[0].berth ?? 'Maasvlakte II', operation: 'load', containers: Math.round((pc[0].teu_loaded ?? 0) / 1.6), teu: pc[0].teu_loaded ?? 0, imdg_class: null },
      { event_id: `c-${v.mmsi}-1`, event_time: pc[0].arrived_at, mmsi: v.mmsi, voyage: 'V042', berth: pc[0].berth ?? 'Maasvlakte II', operation: 'discharge', containers: Math.round((pc[0].teu_discharged ?? 0) / 1.6), teu: pc[0].teu_discharged ?? 0, imdg_class: '3' },
    ] : [];
    const services = pc.length ? [
      { event_id: `s-${v.mmsi}-2`, event_time: pc[0].berthed_at ?? pc[0].anchored_at, mmsi: v.mmsi, kind: 'tug_made_fast', resource: 'SMIT ORCA', shift: null, berth: pc[0].berth },
      { event_id: `s-${v.mmsi}-1`, event_time: pc[0].arrived_at, mmsi: v.mmsi, kind: 'pilot_boarded', resource: 'pilot 117', shift: 'B', berth: null },
    ] : [];
    return json(res, 200, { vessel: v, track: trackOf(v), port_calls: pc, cargo, services });
  }
  if (p === '/api/v1/zones') {
    return json(res, 200, { type: 'FeatureCollection', features: zones.map((z) => ({ ...z, properties: { length_m: null, speed_limit_kn: null, ...z.properties, congestion: congestion.get(z.properties.name) ?? null } })) });
  }
  if (p === '/api/v1/overview') return json(res, 200, overview());
  if (p === '/api/v1/port-calls') return json(res, 200, { items: calls });
  if (p === '/api/v1/anomalies') return json(res, 200, { items: anomalies });
  if (p === '/api/v1/weather-alerts') return json(res, 200, { items: weather });
  if (p === '/api/v1/safety-messages') {
    const limit = Number(url.searchParams.get('limit') ?? 500);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) return err(res, 400, 'bad_request', 'limit must be 1..5000');
    return json(res, 200, { items: safetyMessages.slice(0, limit) });
  }
  if (p === '/api/v1/geography') return json(res, 200, { zones: geography, coastline });
  if (p === '/config.json') return json(res, 200, { tile_url: process.env.MOCK_TILE_URL ?? null, style_url: null });
  if (p === '/dev/stream/drop' && req.method === 'POST') {
    dropUntil = Date.now() + 1000 * Number(url.searchParams.get('seconds') ?? 10);
    for (const c of clients) c.destroy();
    return json(res, 200, { dropped: true });
  }
  if (p === '/api/v1/stream') {
    if (Date.now() < dropUntil) return err(res, 503, 'unavailable', 'stream dropped (mock)');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    const last = Number(req.headers['last-event-id'] ?? NaN);
    if (Number.isFinite(last)) {
      if (history.length && history[0].id > last + 1) res.write(`id: ${eventId}\nevent: reset\ndata: {}\n\n`);
      else for (const ev of history.filter((e) => e.id > last)) res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${ev.data}\n\n`);
    }
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  if (p.startsWith('/api/')) return err(res, 404, 'not_found', `no route ${p}`);
  return serveStatic(res, p);
});
server.listen(PORT, '127.0.0.1', () => console.log(`mock PortTrack API on http://127.0.0.1:${PORT}/ (${vessels.size} vessels)`));
