// `?synthetic=N`: N generated vessels instead of the API's, so the render
// cost of a large fleet can be measured without a backend that has one.
// Deterministic (seeded), spread over the port approaches with a realistic
// mix of types and movements.

import type { Movement, TypeGroup, VesselFeature } from './types';

/** mulberry32: a tiny seeded PRNG, enough for layout. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES: [TypeGroup, number][] = [
  ['cargo', 0.42],
  ['tanker', 0.22],
  ['tug', 0.08],
  ['passenger', 0.05],
  ['fishing', 0.06],
  ['pilot', 0.03],
  ['pleasure', 0.06],
  ['hsc', 0.02],
  ['sar', 0.01],
  ['other', 0.05],
];

function pick<T>(r: number, table: [T, number][]): T {
  let acc = 0;
  for (const [v, w] of table) {
    acc += w;
    if (r < acc) return v;
  }
  return table[table.length - 1][0];
}

export function syntheticVessels(n: number, seed = 42, now = Date.now()): VesselFeature[] {
  const r = rng(seed);
  const out: VesselFeature[] = [];
  const t = new Date(now).toISOString();
  for (let i = 0; i < n; i++) {
    // Denser near the harbour mouth: mix a wide spread with a cluster.
    const cluster = r() < 0.5;
    const lon = cluster ? 3.9 + (r() - 0.5) * 0.5 : 3.4 + r() * 1.2;
    const lat = cluster ? 51.97 + (r() - 0.5) * 0.2 : 51.75 + r() * 0.5;
    const movement: Movement = pick(r(), [
      ['under_way', 0.45],
      ['anchored', 0.25],
      ['moored', 0.22],
      ['stopped', 0.08],
    ] as [Movement, number][]);
    const type_group = pick(r(), TYPES);
    const heading = Math.floor(r() * 360);
    const mmsi = 200000000 + i;
    out.push({
      type: 'Feature',
      id: mmsi,
      geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: {
        mmsi,
        name: `SYNTH ${i}`,
        callsign: null,
        imo: null,
        ship_type: null,
        type_group,
        length_m: 40 + Math.floor(r() * 300),
        beam_m: null,
        draught_m: null,
        destination: 'NLRTM',
        eta: null,
        lat,
        lon,
        sog_kn: movement === 'under_way' ? 4 + r() * 14 : 0,
        cog_deg: heading,
        heading_deg: r() < 0.1 ? null : heading,
        nav_status: null,
        movement,
        event_time: t,
        zone: null,
        zone_kind: null,
        port_call: null,
      },
    });
  }
  return out;
}
