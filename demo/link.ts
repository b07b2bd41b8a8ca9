// One simulated agent's connection to the hub: the real agent protocol over WebSocket
// (hello → welcome, then batches with increasing seq, each acked after the hub committed
// it), so the demo's devices go through the same validation, clock handling and group
// commit as a board's.
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { HubMessageSchema, PROTOCOL_VERSION, type Hello, type Sample } from '../shared/protocol.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A batch the hub has not acked in this long is given up on: the demo must never hang on one. */
const ACK_TIMEOUT_MS = 60_000;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class DemoLink {
  private nextSeq: number;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly socket: WebSocket,
    readonly deviceId: string,
    lastSeq: number | null,
    private readonly log: Logger,
  ) {
    // Continue after what the hub has: a --data directory reused for a second demo keeps its batches.
    this.nextSeq = (lastSeq ?? 0) + 1;
    socket.on('message', (data) => this.onMessage(data.toString()));
    socket.on('close', (code, reason) => {
      this.closed = true;
      const err = new Error(`demo device ${deviceId}: the hub closed the connection (${code} ${reason.toString()})`);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
    });
  }

  /** Connects, says hello and waits for the welcome. */
  static open(url: string, hello: Hello, token: string | undefined, log: Logger): Promise<DemoLink> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS, ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}) });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`demo device ${hello.device.id}: no welcome from ${url} within ${HANDSHAKE_TIMEOUT_MS} ms`));
      }, HANDSHAKE_TIMEOUT_MS);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`demo device ${hello.device.id}: cannot connect to ${url}: ${err.message}`));
      });
      socket.once('open', () => socket.send(JSON.stringify(hello)));
      socket.once('message', (data) => {
        clearTimeout(timer);
        const parsed = HubMessageSchema.safeParse(JSON.parse(data.toString()));
        if (!parsed.success || parsed.data.type !== 'welcome') {
          socket.close();
          reject(new Error(`demo device ${hello.device.id}: the hub answered the hello with ${data.toString().slice(0, 300)}`));
          return;
        }
        socket.removeAllListeners('error');
        socket.on('error', (err) => log.warn({ device: hello.device.id, err: err.message }, 'demo device connection error'));
        resolve(new DemoLink(socket, hello.device.id, parsed.data.lastSeq, log));
      });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one batch; resolves when the hub acked it (committed), rejects on an error frame or a lost connection. */
  send(samples: Sample[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`demo device ${this.deviceId}: connection closed`));
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`demo device ${this.deviceId}: batch ${seq} (${samples.length} samples) not acked within ${ACK_TIMEOUT_MS} ms`));
      }, ACK_TIMEOUT_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ type: 'batch', v: PROTOCOL_VERSION, seq, samples, sentAt: Date.now() }));
    });
  }

  private onMessage(text: string): void {
    let frame;
    try {
      frame = HubMessageSchema.parse(JSON.parse(text));
    } catch {
      this.log.warn({ device: this.deviceId, frame: text.slice(0, 300) }, 'demo device got a frame it does not understand');
      return;
    }
    if (frame.type === 'ack') {
      const p = this.pending.get(frame.seq);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(frame.seq);
      p.resolve();
    } else if (frame.type === 'error') {
      this.log.warn({ device: this.deviceId, code: frame.code, seq: frame.seq, message: frame.message }, 'hub refused a demo batch');
      const p = frame.seq === undefined ? undefined : this.pending.get(frame.seq);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(frame.seq!);
        p.reject(new Error(`demo device ${this.deviceId}: the hub refused batch ${frame.seq}: ${frame.code} ${frame.message}`));
      }
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 2000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.close(1000, 'demo stopping');
    });
  }
}
