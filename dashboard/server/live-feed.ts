// The browser live socket (/ws/live): a snapshot on connect, then every committed batch and
// every device state change, filtered by what each browser subscribed to.
import type { WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import type { DeviceSummary, HubStatus, LiveFrame } from '../../shared/live.js';
import { parseFrame, PROTOCOL_VERSION, SubscribeSchema, type ErrorCode, type Sample, type Subscribe } from '../../shared/protocol.js';
import type { Fleet } from './fleet.js';
import { DEFAULT_LIMITS, FrameLimiter, LogThrottle, type SocketLimit } from './rate-limit.js';

/** A browser that cannot keep up is skipped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;

interface Viewer {
  socket: WebSocket;
  devices: '*' | Set<string>;
}

export class LiveFeed {
  private readonly viewers = new Set<Viewer>();
  private hubStatus: HubStatus = { writable: true, reason: null, since: null };

  constructor(
    private readonly fleet: Fleet,
    private readonly log: Logger,
    /** Subscribe frames per second a browser may send (rate-limit.ts). */
    private readonly limit: SocketLimit = DEFAULT_LIMITS.live,
  ) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  attach(socket: WebSocket): void {
    const viewer: Viewer = { socket, devices: '*' };
    this.viewers.add(viewer);
    send(socket, { type: 'snapshot', v: PROTOCOL_VERSION, devices: this.fleet.list() });
    send(socket, { type: 'hub', v: PROTOCOL_VERSION, status: this.hubStatus });
    const limiter = new FrameLimiter(this.limit);
    const rejectLog = new LogThrottle();
    const sendError = (code: ErrorCode, message: string): void => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'error', v: PROTOCOL_VERSION, code, message }));
    };
    socket.on('message', (data, isBinary) => {
      if (socket.readyState !== socket.OPEN) return; // closing: frames already buffered are ignored
      const verdict = limiter.check();
      if (verdict === 'close') {
        this.log.warn({ dropped: limiter.dropped }, 'live viewer keeps exceeding the subscribe rate limit: closing');
        socket.close(1008, 'rate limit exceeded');
        return;
      }
      if (verdict === 'drop') {
        sendError('rate_limited', `at most ${this.limit.ratePerS} subscribe frames per second: this one was ignored`);
        return;
      }
      let parsed: ReturnType<typeof parseFrame<Subscribe>> | null = null;
      try {
        parsed = isBinary ? null : parseFrame(SubscribeSchema, data.toString());
      } catch (err) {
        // parseFrame must not throw, but a throw in a ws listener would take the hub down.
        this.log.warn({ err: String(err).slice(0, 200) }, 'live frame could not be handled');
        sendError('invalid_message', 'the hub could not read this frame');
        return;
      }
      if (!parsed || !parsed.ok) {
        const message = parsed ? parsed.message : 'binary frames are not accepted';
        const suppressed = rejectLog.allow();
        if (suppressed >= 0) this.log.debug({ message: message.slice(0, 300), suppressed }, 'invalid frame on live socket');
        sendError(parsed?.code ?? 'invalid_message', message);
        return;
      }
      viewer.devices = parsed.value.devices === '*' ? '*' : new Set(parsed.value.devices);
    });
    socket.on('close', () => this.viewers.delete(viewer));
    socket.on('error', (err) => this.log.debug({ err }, 'live socket error'));
  }

  publishSamples(deviceId: string, samples: Sample[]): void {
    if (this.viewers.size === 0) return;
    let frame: string | undefined;
    for (const viewer of this.viewers) {
      if (viewer.devices !== '*' && !viewer.devices.has(deviceId)) continue;
      if (viewer.socket.bufferedAmount > MAX_BUFFERED_BYTES) continue;
      frame ??= JSON.stringify({ type: 'samples', v: PROTOCOL_VERSION, deviceId, samples } satisfies LiveFrame);
      viewer.socket.send(frame);
    }
  }

  publishDevice(device: DeviceSummary): void {
    const frame = JSON.stringify({ type: 'device', v: PROTOCOL_VERSION, device } satisfies LiveFrame);
    for (const viewer of this.viewers) viewer.socket.send(frame);
  }

  /** The hub can (or cannot) save data: every browser shows it (a red banner while it cannot). */
  publishHubStatus(status: HubStatus): void {
    this.hubStatus = { writable: status.writable, reason: status.reason, since: status.since };
    const frame = JSON.stringify({ type: 'hub', v: PROTOCOL_VERSION, status: this.hubStatus } satisfies LiveFrame);
    for (const viewer of this.viewers) viewer.socket.send(frame);
  }

  closeAll(): void {
    for (const viewer of this.viewers) viewer.socket.close(1001, 'hub shutting down');
  }
}

function send(socket: WebSocket, frame: LiveFrame): void {
  socket.send(JSON.stringify(frame));
}
