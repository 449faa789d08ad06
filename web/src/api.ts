// Thin typed fetchers for the read API. Errors carry the API's error message.

import type { Overview, SiteConfig, VesselCollection, VesselDetails, VesselFeature, ZoneCollection } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, signal });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) msg = body.error.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, `${path}: ${msg}`);
  }
  return (await res.json()) as T;
}

/** Every vessel, following `next_cursor` across pages. */
export async function fetchAllVessels(): Promise<{ features: VesselFeature[]; total: number }> {
  const features: VesselFeature[] = [];
  let cursor: string | null = null;
  let total = 0;
  // Bounded: 100 pages of 20 000 is far beyond any port; a cursor that never
  // ends must not hang the page.
  for (let page = 0; page < 100; page++) {
    const q = new URLSearchParams({ limit: '20000' });
    if (cursor) q.set('cursor', cursor);
    const body: VesselCollection = await getJson<VesselCollection>(`api/v1/vessels?${q.toString()}`);
    features.push(...body.features);
    total = body.total;
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return { features, total };
}

export const fetchZones = () => getJson<ZoneCollection>('api/v1/zones');
export const fetchOverview = () => getJson<Overview>('api/v1/overview');
export const fetchVessel = (mmsi: number, signal?: AbortSignal) =>
  getJson<VesselDetails>(`api/v1/vessels/${mmsi}?hours=6`, signal);

export async function fetchConfig(): Promise<SiteConfig> {
  try {
    return await getJson<SiteConfig>('config.json');
  } catch {
    return { tile_url: null, style_url: null };
  }
}

export async function fetchCoastline(): Promise<GeoJSON.FeatureCollection | null> {
  try {
    return await getJson<GeoJSON.FeatureCollection>('coastline.geojson');
  } catch {
    return null;
  }
}
