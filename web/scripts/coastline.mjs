#!/usr/bin/env node
// Builds web/public/coastline.geojson: the offline basemap's land layer.
//
// Source: Natural Earth 1:10m land (public domain), as redistributed in the
// `world-atlas` npm package (TopoJSON, v4.1.0). Natural Earth is the best
// public-domain resolution available from npm; it is quantized to about
// 250 m, which is fine at port-approach zoom levels and keeps the committed
// file small.
//
// We clip the land polygons to the port area (Rotterdam approaches, with a
// margin around the zones in processors/ports/rotterdam.geojson) with
// Sutherland–Hodgman against the bounding rectangle: land polygons may be
// concave, which can leave zero-width slivers along the clip edge, but
// those are invisible when filled, and the algorithm is short and exact for
// a rectangle. Output is deterministic (fixed rounding, stable order) so the
// committed file only changes when the inputs do.
//
// Usage: npm run coastline   (or node scripts/coastline.mjs [minLon minLat maxLon maxLat])
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { feature } from 'topojson-client';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const args = process.argv.slice(2).map(Number);
const [minLon, minLat, maxLon, maxLat] = args.length === 4 ? args : [3.3, 51.7, 4.7, 52.3];

const topo = JSON.parse(readFileSync(require.resolve('world-atlas/land-10m.json'), 'utf8'));
const land = feature(topo, topo.objects.land);

/** Clips one closed ring against one half-plane given by `inside` and `cut`. */
function clipEdge(ring, inside, cut) {
  const out = [];
  for (let i = 0; i < ring.length; i++) {
    const cur = ring[i];
    const prev = ring[(i + ring.length - 1) % ring.length];
    const curIn = inside(cur);
    const prevIn = inside(prev);
    if (curIn) {
      if (!prevIn) out.push(cut(prev, cur));
      out.push(cur);
    } else if (prevIn) {
      out.push(cut(prev, cur));
    }
  }
  return out;
}

const lerpAtLon = (x) => (a, b) => [x, a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0])];
const lerpAtLat = (y) => (a, b) => [a[0] + ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]), y];

function clipRing(ring) {
  // Drop the closing duplicate; clipping works on the open ring.
  let r = ring.slice(0, -1);
  r = clipEdge(r, (p) => p[0] >= minLon, lerpAtLon(minLon));
  r = clipEdge(r, (p) => p[0] <= maxLon, lerpAtLon(maxLon));
  r = clipEdge(r, (p) => p[1] >= minLat, lerpAtLat(minLat));
  r = clipEdge(r, (p) => p[1] <= maxLat, lerpAtLat(maxLat));
  const rounded = [];
  for (const [x, y] of r) {
    const p = [Math.round(x * 1e5) / 1e5, Math.round(y * 1e5) / 1e5];
    const last = rounded[rounded.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) rounded.push(p);
  }
  if (rounded.length < 3) return null;
  rounded.push(rounded[0]);
  return rounded;
}

const polygons = [];
for (const f of land.features) {
  const g = f.geometry;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  for (const poly of polys) {
    const [outer, ...holes] = poly;
    const o = clipRing(outer);
    if (!o) continue;
    const hs = holes.map(clipRing).filter(Boolean);
    polygons.push([o, ...hs]);
  }
}

const out = {
  type: 'FeatureCollection',
  features: [
    {
      type: 'Feature',
      properties: {
        kind: 'land',
        source: 'Natural Earth 1:10m land v4.1.0 (public domain), via world-atlas',
        bbox: [minLon, minLat, maxLon, maxLat],
      },
      geometry: { type: 'MultiPolygon', coordinates: polygons },
    },
  ],
};
const path = join(here, '..', 'public', 'coastline.geojson');
writeFileSync(path, JSON.stringify(out) + '\n');
const vertices = polygons.reduce((n, p) => n + p.reduce((m, r) => m + r.length, 0), 0);
console.log(`wrote ${path}: ${polygons.length} polygon(s), ${vertices} vertices`);
