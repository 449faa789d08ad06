import type { VesselFeature, VesselProps } from '../../src/types';

export function vessel(p: Partial<VesselProps> = {}): VesselProps {
  return {
    mmsi: 244000001,
    name: 'TEST',
    callsign: null,
    imo: null,
    ship_type: 70,
    type_group: 'cargo',
    length_m: 200,
    beam_m: 30,
    draught_m: 10,
    destination: null,
    eta: null,
    lat: 51.95,
    lon: 4.0,
    sog_kn: 10,
    cog_deg: 90,
    heading_deg: 92,
    nav_status: 0,
    movement: 'under_way',
    event_time: '2026-12-01T10:00:00Z',
    zone: null,
    zone_kind: null,
    port_call: null,
    ...p,
  };
}

export function feature(p: Partial<VesselProps> = {}): VesselFeature {
  const v = vessel(p);
  return { type: 'Feature', id: v.mmsi, geometry: { type: 'Point', coordinates: [v.lon, v.lat] }, properties: v };
}
