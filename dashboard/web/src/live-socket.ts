// The live feed from the hub (/ws/live). Reconnects by itself with exponential backoff and
// jitter; after a reconnect the hub sends a fresh snapshot, and the socket re-sends the
// current subscription. A hub that requires a login refuses the upgrade with 401, which the
// browser hides from scripts: when a connection fails before it opened, the socket asks the
// hub (GET /api/v1/session) and, when the answer is 401, raises the "auth required" event
// (api.ts) and stops until start() is called again after the login.
import type { LiveFrame } from '../../../shared/live.js';
import { checkAuthAfterRefusal } from './api.js';

/** The hub's close code for a viewer whose session or token is no longer valid. */
export const CLOSE_UNAUTHORIZED = 4401;

export type SocketState = 'connecting' | 'open' | 'closed';

export interface LiveSocketOptions {
  url?: string;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Called when a connection fails before opening; true means "refused for want of a login": stop. */
  checkAuth?: () => Promise<boolean>;
}

export function liveUrl(loc: Location = location): string {
  const url = new URL('ws/live', loc.href);
  url.protocol = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = '';
  return url.toString();
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private subscription: '*' | string[] = '*';
  private readonly frameListeners = new Set<(f: LiveFrame) => void>();
  private readonly stateListeners = new Set<(s: SocketState) => void>();
  private readonly url: string;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly checkAuth: () => Promise<boolean>;
  state: SocketState = 'closed';

  constructor(opts: LiveSocketOptions = {}) {
    this.url = opts.url ?? liveUrl();
    this.minDelayMs = opts.minDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 15_000;
    this.checkAuth = opts.checkAuth ?? checkAuthAfterRefusal;
  }

  start(): void {
    if (!this.stopped && (this.ws || this.timer)) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ws?.close();
    this.ws = null;
    this.setState('closed');
  }

  onFrame(fn: (f: LiveFrame) => void): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  onState(fn: (s: SocketState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Which devices' samples to stream. Kept and re-sent after every reconnect. */
  subscribe(devices: '*' | string[]): void {
    const same =
      devices === this.subscription ||
      (Array.isArray(devices) && Array.isArray(this.subscription) && devices.join('\n') === this.subscription.join('\n'));
    this.subscription = devices;
    if (!same) this.sendSubscription();
  }

  private sendSubscription(): void {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: 'subscribe', v: 1, devices: this.subscription }));
    }
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
      this.setState('open');
      // The hub streams everything by default; only narrow it when asked to.
      if (this.subscription !== '*') this.sendSubscription();
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!isLiveFrame(frame)) return;
      for (const fn of this.frameListeners) {
        try {
          fn(frame);
        } catch (err) {
          console.error('edgewatch: live frame handler failed', err);
        }
      }
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      // 4401: the hub ended the session (logout elsewhere, expiry): ask like after a refusal.
      if (opened && ev.code !== CLOSE_UNAUTHORIZED) {
        this.scheduleReconnect();
        return;
      }
      // Refused (or 4401): a hub that is down, or one that wants a login first.
      this.setState('closed');
      this.checkAuth().then(
        (needsLogin) => {
          if (this.stopped || this.ws || this.timer) return;
          if (needsLogin) this.stop();
          else this.scheduleReconnect();
        },
        () => {
          if (!this.stopped && !this.ws && !this.timer) this.scheduleReconnect();
        },
      );
    });
    // An error is always followed by close; nothing to do here.
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setState('closed');
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt = Math.min(this.attempt + 1, 20);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private setState(s: SocketState): void {
    if (this.state === s) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }
}

/** A light shape check: the hub is trusted to send well-formed frames, but not blindly. */
function isLiveFrame(x: unknown): x is LiveFrame {
  if (typeof x !== 'object' || x === null) return false;
  const f = x as { type?: unknown; v?: unknown };
  if (f.v !== 1) return false;
  switch (f.type) {
    case 'snapshot':
      return Array.isArray((x as { devices?: unknown }).devices);
    case 'device':
      return typeof (x as { device?: unknown }).device === 'object' && (x as { device?: unknown }).device !== null;
    case 'samples':
      return typeof (x as { deviceId?: unknown }).deviceId === 'string' && Array.isArray((x as { samples?: unknown }).samples);
    case 'hub':
      return typeof (x as { status?: { writable?: unknown } }).status?.writable === 'boolean';
    default:
      return false;
  }
}
