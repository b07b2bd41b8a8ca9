// The browser live socket (/ws/live): a snapshot on connect, then every committed batch and
// every device state change, filtered by what each browser subscribed to.
import type { WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import type { DeviceSummary, LiveFrame } from '../../shared/live.js';
import { parseFrame, PROTOCOL_VERSION, SubscribeSchema, type Sample } from '../../shared/protocol.js';
import type { Fleet } from './fleet.js';

/** A browser that cannot keep up is skipped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;

interface Viewer {
  socket: WebSocket;
  devices: '*' | Set<string>;
}

export class LiveFeed {
  private readonly viewers = new Set<Viewer>();

  constructor(
    private readonly fleet: Fleet,
    private readonly log: Logger,
  ) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  attach(socket: WebSocket): void {
    const viewer: Viewer = { socket, devices: '*' };
    this.viewers.add(viewer);
    send(socket, { type: 'snapshot', v: PROTOCOL_VERSION, devices: this.fleet.list() });
    socket.on('message', (data, isBinary) => {
      const parsed = isBinary ? null : parseFrame(SubscribeSchema, data.toString());
      if (!parsed || !parsed.ok) {
        const message = parsed ? parsed.message : 'binary frames are not accepted';
        this.log.debug({ message }, 'invalid frame on live socket');
        socket.send(JSON.stringify({ type: 'error', v: PROTOCOL_VERSION, code: parsed?.code ?? 'invalid_message', message }));
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

  closeAll(): void {
    for (const viewer of this.viewers) viewer.socket.close(1001, 'hub shutting down');
  }
}

function send(socket: WebSocket, frame: LiveFrame): void {
  socket.send(JSON.stringify(frame));
}
