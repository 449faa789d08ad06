// Types of the PortTrack read API v1 (see docs/api.md / the OpenAPI document).
// Unknown values are `null`, never omitted; times are RFC 3339 strings;
// durations are integer seconds with an `_s` suffix.

export type TypeGroup =
  | 'cargo'
  | 'tanker'
  | 'passenger'
  | 'fishing'
  | 'tug'
  | 'pilot'
  | 'sar'
  | 'pleasure'
  | 'hsc'
  | 'other'
  | 'unknown';

export type Movement = 'under_way' | 'anchored' | 'moored' | 'stopped' | 'unknown';

export type CongestionLevel = 'free' | 'moderate' | 'heavy' | 'severe';

export type ZoneKind =
  | 'port_limits'
  | 'anchorage'
  | 'approach_channel'
  | 'basin'
  | 'berth'
  | 'restricted';

export interface VesselProps {
  mmsi: number;
  name: string | null;
  callsign: string | null;
  imo: number | null;
  ship_type: number | null;
  type_group: TypeGroup | null;
  length_m: number | null;
  beam_m: number | null;
  draught_m: number | null;
  destination: string | null;
  eta: string | null;
  lat: number;
  lon: number;
  sog_kn: number | null;
  cog_deg: number | null;
  heading_deg: number | null;
  nav_status: number | null;
  movement: Movement | null;
  event_time: string | null;
  zone: string | null;
  zone_kind: ZoneKind | null;
  port_call: { id: string | number; phase: string } | null;
}

export interface VesselFeature {
  type: 'Feature';
  id: number;
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: VesselProps;
}

export interface VesselCollection {
  type: 'FeatureCollection';
  features: VesselFeature[];
  total: number;
  next_cursor: string | null;
  generated_at: string;
}

export interface Congestion {
  level: CongestionLevel;
  vessels_present: number | null;
  queue_length: number | null;
  waiting_now_count: number | null;
  waiting_p50_s: number | null;
  waiting_p90_s: number | null;
  berth_occupancy: number | null;
  moored_vessels: number | null;
  arrivals_per_hour: number | null;
  departures_per_hour: number | null;
  snapshot_time: string | null;
}

export interface ZoneProps {
  name: string;
  kind: ZoneKind;
  length_m?: number | null;
  speed_limit_kn?: number | null;
  congestion?: Congestion | null;
}

export interface ZoneFeature {
  type: 'Feature';
  id?: string | number;
  geometry: GeoJSON.Geometry;
  properties: ZoneProps;
}

export interface ZoneCollection {
  type: 'FeatureCollection';
  features: ZoneFeature[];
}

export interface PortCall {
  id: string | number;
  mmsi: number;
  name: string | null;
  phase: string;
  arrived_at: string | null;
  anchored_at: string | null;
  waiting_time_s: number | null;
  berth: string | null;
  berthed_at: string | null;
  unberthed_at: string | null;
  service_time_s: number | null;
  departed_at: string | null;
  teu_loaded: number | null;
  teu_discharged: number | null;
  services: unknown;
  last_event_time: string | null;
}

export interface TrackPoint {
  t: string;
  lat: number;
  lon: number;
  sog_kn: number | null;
  cog_deg: number | null;
}

export interface VesselDetails {
  vessel: VesselProps;
  track: TrackPoint[];
  port_calls: PortCall[];
  cargo: Record<string, unknown>[];
  services: Record<string, unknown>[];
}

export interface Anomaly {
  mmsi: number;
  name: string | null;
  event_time: string;
  kind: string;
  zone: string | null;
  details: unknown;
}

export interface WeatherAlert {
  zone: string | null;
  station: string | null;
  event_time: string;
  kind: string;
  value: number | null;
  limit: number | null;
  raised: boolean;
}

/** An AIS safety-related message (type 12 addressed, type 14 broadcast), as in
 * `/api/v1/safety-messages`. `lat`/`lon` are where the sender was, when known. */
export interface SafetyMessage {
  /** `{topic}-{partition}-{offset}[-{index}]`: unique per message. */
  id: string;
  event_time: string;
  mmsi: number;
  name: string | null;
  addressed: boolean;
  dest_mmsi: number | null;
  sequence: number | null;
  retransmit: boolean | null;
  text: string;
  lat: number | null;
  lon: number | null;
  located_by: 'vessel_position' | 'station' | null;
}

export interface QueueEntry {
  mmsi: number;
  name: string | null;
  zone: string | null;
  anchored_at: string | null;
  waiting_s: number | null;
}

export interface BerthOccupancy {
  name: string;
  length_m: number | null;
  occupancy: number | null;
  moored: { mmsi: number; name: string | null }[];
}

export interface Counts {
  vessels: number;
  under_way: number;
  anchored: number;
  moored: number;
}

export interface Overview {
  generated_at: string;
  anchorage_queue: QueueEntry[];
  arrivals_today: PortCall[];
  departures_today: PortCall[];
  berths: BerthOccupancy[];
  weather_alerts: WeatherAlert[];
  anomalies: Anomaly[];
  /** Last 24 h, newest first, at most 20 (absent from servers before safety messages). */
  safety_messages?: SafetyMessage[];
  counts: Counts;
}

export interface CongestionEvent {
  zone: string;
  congestion: Congestion | null;
}

export type AlertEvent =
  | { kind: 'anomaly'; item: Anomaly }
  | { kind: 'weather'; item: WeatherAlert }
  | { kind: 'safety'; item: SafetyMessage };

export interface SiteConfig {
  tile_url: string | null;
  style_url: string | null;
}

export type StreamState = 'live' | 'reconnecting' | 'down';
