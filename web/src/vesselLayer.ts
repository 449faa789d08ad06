// All vessels on ONE canvas. DOM markers cost a layout node each and fall
// over at a few thousand; here a redraw is a projection and a handful of
// batched paths (one per colour), so 10k vessels redraw in a few ms.
//
// The canvas lives in its own pane inside Leaflet's map pane and is larger
// than the viewport (a tenth of it as padding each side), so during a drag it
// simply moves with the pane; it is redrawn once the map stops (moveend),
// hidden while a zoom animates and redrawn at zoomend: the same scheme as
// Leaflet's own canvas renderer.

import L from 'leaflet';
import type { VesselFeature } from './types';
import { NAME_MIN_ZOOM, vesselStyle, type Glyph } from './style';

/** Canvas margin around the viewport, as a fraction of its size: what a drag
 * reveals before the redraw at moveend. */
const PADDING = 0.1;
/** Glyphs per path (see draw). */
const PATH_CHUNK = 8;
/** Above this many glyphs in view, no outlines. */
const OUTLINE_MAX = 3000;
/** Names are drawn for at most this many vessels in view (the rest would be noise). */
const MAX_LABELS = 600;

export interface DrawStats {
  drawn: number;
  ms: number;
}

export class VesselLayer extends L.Layer {
  private canvas!: HTMLCanvasElement;
  private ctx!: CanvasRenderingContext2D;
  private vessels: VesselFeature[] = [];
  /** Layer-pixel position of each vessel at the last draw, in `vessels` order. */
  private xs = new Float64Array(0);
  private ys = new Float64Array(0);
  private origin = L.point(0, 0);
  private frame = 0;
  private selected: number | null = null;
  onDraw: ((s: DrawStats) => void) | null = null;

  onAdd(map: L.Map): this {
    const pane = map.getPane('vessels') ?? map.createPane('vessels');
    this.canvas = L.DomUtil.create('canvas', 'vessel-canvas leaflet-zoom-hide', pane);
    this.canvas.setAttribute('aria-hidden', 'true');
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('2D canvas unavailable');
    this.ctx = ctx;
    map.on('moveend zoomend viewreset resize', this.reset, this);
    this.reset();
    return this;
  }

  onRemove(map: L.Map): this {
    map.off('moveend zoomend viewreset resize', this.reset, this);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.canvas.remove();
    return this;
  }

  /** Replaces the drawn set; the redraw is coalesced into the next frame. */
  setVessels(vessels: VesselFeature[]): void {
    this.vessels = vessels;
    this.schedule();
  }

  setSelected(mmsi: number | null): void {
    this.selected = mmsi;
    this.schedule();
  }

  get count(): number {
    return this.vessels.length;
  }

  private schedule(): void {
    if (this.frame || !this._map) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private reset(): void {
    const map = this._map;
    if (!map) return;
    const size = map.getSize();
    const pad = size.multiplyBy(PADDING).round();
    this.origin = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
    const w = size.x + 2 * pad.x;
    const h = size.y + 2 * pad.y;
    const dpr = window.devicePixelRatio || 1;
    L.DomUtil.setPosition(this.canvas, this.origin);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    this.draw();
  }

  draw(): void {
    const map = this._map;
    if (!map) return;
    const t0 = performance.now();
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.width / dpr;
    const h = this.canvas.height / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const zoom = map.getZoom();
    const n = this.vessels.length;
    if (this.xs.length !== n) {
      this.xs = new Float64Array(n);
      this.ys = new Float64Array(n);
    }
    // Bucket by fill and alpha so each colour is one path, filled once.
    const buckets = new Map<string, number[]>();
    const styles = new Array<ReturnType<typeof vesselStyle>>(n);
    let drawn = 0;
    for (let i = 0; i < n; i++) {
      const f = this.vessels[i];
      const [lon, lat] = f.geometry.coordinates;
      const p = map.latLngToLayerPoint([lat, lon]);
      const x = p.x - this.origin.x;
      const y = p.y - this.origin.y;
      this.xs[i] = p.x;
      this.ys[i] = p.y;
      if (x < -20 || y < -20 || x > w + 20 || y > h + 20) continue;
      const s = vesselStyle(f.properties, zoom);
      styles[i] = s;
      const key = `${s.fill}|${s.alpha}`;
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = []));
      b.push(i);
      drawn++;
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(4, 12, 22, 0.85)';
    // Outlines help single glyphs stand out but double the raster work; in
    // a crowd of thousands they only add noise.
    const outline = drawn <= OUTLINE_MAX;
    for (const [key, idx] of buckets) {
      const [fill, alpha] = key.split('|');
      ctx.globalAlpha = Number(alpha);
      ctx.fillStyle = fill;
      // Small paths of neighbours: one path per colour spanning the whole
      // canvas rasterizes ~10× slower in Chromium's software (no-GPU) path
      // than chunks of glyphs that are close in y (measured: 10k glyphs,
      // 450 ms vs 50 ms), and a path per glyph pays per-call overhead.
      idx.sort((a, b) => this.ys[a] - this.ys[b]);
      for (let c = 0; c < idx.length; c += PATH_CHUNK) {
        ctx.beginPath();
        const end = Math.min(idx.length, c + PATH_CHUNK);
        for (let k = c; k < end; k++) {
          const i = idx[k];
          const s = styles[i];
          glyphPath(ctx, s.glyph, this.xs[i] - this.origin.x, this.ys[i] - this.origin.y, s.size, s.rotation);
        }
        ctx.fill();
        if (outline) ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
    if (zoom >= NAME_MIN_ZOOM) this.drawNames(ctx, w, h);
    this.drawSelection(ctx, zoom);
    const ms = performance.now() - t0;
    this.onDraw?.({ drawn, ms });
  }

  private drawNames(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    ctx.font = '600 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.lineJoin = 'round';
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(6, 18, 32, 0.9)';
    ctx.fillStyle = '#e8f1fa';
    // Greedy placement: a name that would overlap one already drawn is
    // skipped (its vessel is still there, and clickable).
    const placed: number[] = [];
    for (let i = 0; i < this.vessels.length && placed.length < MAX_LABELS * 4; i++) {
      const x = this.xs[i] - this.origin.x;
      const y = this.ys[i] - this.origin.y;
      if (x < 0 || y < 0 || x > w || y > h) continue;
      const name = this.vessels[i].properties.name;
      if (!name) continue;
      const x0 = x + 10;
      const x1 = x0 + ctx.measureText(name).width;
      const y0 = y - 7;
      const y1 = y + 7;
      let free = true;
      for (let k = 0; k < placed.length && free; k += 4) {
        free = x1 < placed[k] || x0 > placed[k + 2] || y1 < placed[k + 1] || y0 > placed[k + 3];
      }
      if (!free) continue;
      placed.push(x0, y0, x1, y1);
      ctx.strokeText(name, x0, y);
      ctx.fillText(name, x0, y);
    }
  }

  private drawSelection(ctx: CanvasRenderingContext2D, zoom: number): void {
    if (this.selected === null) return;
    const i = this.vessels.findIndex((f) => f.properties.mmsi === this.selected);
    if (i < 0) return;
    const x = this.xs[i] - this.origin.x;
    const y = this.ys[i] - this.origin.y;
    const r = vesselStyle(this.vessels[i].properties, zoom).size + 6;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(x, y, r + 3, 0, Math.PI * 2);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = 'rgba(0, 180, 255, 0.9)';
    ctx.stroke();
  }

  /** The vessel nearest to a container point, within `radius` px, or null. */
  hitTest(containerPoint: L.Point, radius = 12): VesselFeature | null {
    const map = this._map;
    if (!map) return null;
    const p = map.containerPointToLayerPoint(containerPoint);
    let best = -1;
    let bestD = radius * radius;
    for (let i = 0; i < this.vessels.length; i++) {
      const dx = this.xs[i] - p.x;
      const dy = this.ys[i] - p.y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best >= 0 ? this.vessels[best] : null;
  }
}

/** Adds one glyph, centred on (x, y) and rotated clockwise from north by
 * `rotation` degrees, to the current path. Vertices are rotated here rather
 * than with ctx.rotate so a whole colour stays one path. */
export function glyphPath(
  ctx: CanvasRenderingContext2D,
  glyph: Glyph,
  x: number,
  y: number,
  s: number,
  rotation: number | null,
): void {
  if (glyph === 'circle' || (rotation === null && glyph !== 'diamond' && glyph !== 'hull')) {
    const r = glyph === 'circle' ? s * 0.55 : s * 0.6;
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, Math.PI * 2);
    return;
  }
  const pts = GLYPHS[glyph];
  const a = ((rotation ?? 0) * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  for (let k = 0; k < pts.length; k += 2) {
    const px = pts[k] * s;
    const py = pts[k + 1] * s;
    const rx = x + px * cos - py * sin;
    const ry = y + px * sin + py * cos;
    if (k === 0) ctx.moveTo(rx, ry);
    else ctx.lineTo(rx, ry);
  }
  ctx.closePath();
}

/** Unit glyphs pointing north (screen −y), as flat x,y lists. */
const GLYPHS: Record<Exclude<Glyph, 'circle'>, number[]> = {
  arrow: [0, -1, 0.55, 0.8, 0, 0.45, -0.55, 0.8],
  hull: [0, -1, 0.42, -0.5, 0.42, 0.9, -0.42, 0.9, -0.42, -0.5],
  diamond: [0, -0.75, 0.6, 0, 0, 0.75, -0.6, 0],
};
