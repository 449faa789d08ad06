// The live stream: an EventSource on /api/v1/stream with a visible state.
//
// The browser reconnects an EventSource by itself (sending Last-Event-ID, so
// the server replays what we missed); while it does, readyState is
// CONNECTING and we show "reconnecting". If the browser gives up (CLOSED,
// e.g. a non-200 answer) we show "down" and open a new one with backoff;
// a new EventSource has no Last-Event-ID, so the caller reloads snapshots
// on the next open (`onReopen`).

import type { StreamState } from './types';

export interface StreamHandlers {
  onEvent: (type: string, data: unknown, id: string | null) => void;
  onState: (s: StreamState) => void;
  onReopen: () => void;
}

export const EVENT_TYPES = ['vessel', 'congestion', 'alert', 'heartbeat', 'reset'] as const;

export class LiveStream {
  private es: EventSource | null = null;
  private retry = 1000;
  private timer = 0;
  private closedOnce = false;
  state: StreamState = 'reconnecting';

  constructor(
    private readonly url: string,
    private readonly h: StreamHandlers,
  ) {}

  start(): void {
    this.open();
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
  }

  private set(s: StreamState): void {
    if (this.state === s) return;
    this.state = s;
    this.h.onState(s);
  }

  private open(): void {
    const es = new EventSource(this.url);
    this.es = es;
    es.onopen = () => {
      this.retry = 1000;
      this.set('live');
      if (this.closedOnce) {
        this.closedOnce = false;
        this.h.onReopen();
      }
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        this.set('down');
        this.closedOnce = true;
        es.close();
        this.timer = window.setTimeout(() => this.open(), this.retry);
        this.retry = Math.min(this.retry * 2, 30_000);
      } else {
        this.set('reconnecting');
      }
    };
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (ev) => {
        const m = ev as MessageEvent<string>;
        let data: unknown = null;
        try {
          data = m.data ? JSON.parse(m.data) : null;
        } catch {
          console.warn(`stream: ${type} event with malformed JSON ignored`);
          return;
        }
        this.set('live');
        this.h.onEvent(type, data, m.lastEventId || null);
      });
    }
  }
}
