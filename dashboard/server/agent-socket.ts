// One agent connection (/ws/agent): hello → welcome, then batches → commit → ack. Every
// frame is validated; a bad one gets an error frame and is logged, and the connection (and
// every other agent) carries on.
import type { WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import {
  AgentMessageSchema,
  parseFrame,
  PROTOCOL_VERSION,
  type Batch,
  type ErrorCode,
  type Hello,
  type HubMessage,
} from '../../shared/protocol.js';
import type { DeviceRow, Store } from '../store/store.js';
import type { Fleet } from './fleet.js';
import { StoreUnavailableError, type IngestQueue } from './ingest-queue.js';
import type { LiveFeed } from './live-feed.js';

export interface AgentSocketDeps {
  store: Store;
  ingest: IngestQueue;
  fleet: Fleet;
  live: LiveFeed;
  log: Logger;
  /** An agent that has not said hello by then is disconnected. */
  helloTimeoutMs?: number;
}

export function attachAgentSocket(socket: WebSocket, remote: string, deps: AgentSocketDeps): void {
  const { store, ingest, fleet, live } = deps;
  let log = deps.log.child({ remote });
  let device: DeviceRow | null = null;

  const helloTimer = setTimeout(() => {
    if (!device) {
      log.warn('agent sent no hello in time: closing');
      socket.close(4000, 'hello required');
    }
  }, deps.helloTimeoutMs ?? 10_000);

  const send = (msg: HubMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  };
  const sendError = (code: ErrorCode, message: string, seq?: number): void =>
    send({ type: 'error', v: PROTOCOL_VERSION, code, message, ...(seq !== undefined ? { seq } : {}) });

  const onHello = (hello: Hello): void => {
    if (device && device.id !== hello.device.id) {
      // Online state and sequence numbers are per device: one connection speaks for one.
      sendError('invalid_message', `this connection already speaks for device ${device.id}; open another connection for ${hello.device.id}`);
      return;
    }
    const firstHello = device === null;
    device = store.upsertDevice(hello, Date.now());
    log = deps.log.child({ remote, device: device.id });
    if (firstHello) fleet.connected(device.id);
    clearTimeout(helloTimer);
    send({ type: 'welcome', v: PROTOCOL_VERSION, lastSeq: device.lastSeq, hubTime: Date.now() });
    log.info({ deviceName: device.name, lastSeq: device.lastSeq, capabilities: hello.capabilities }, 'agent connected');
    live.publishDevice(fleet.summarise(device));
  };

  const onBatch = async (batch: Batch, current: DeviceRow): Promise<void> => {
    try {
      const outcome = await ingest.submit({
        deviceNum: current.num,
        seq: batch.seq,
        samples: batch.samples,
        receivedAt: Date.now(),
        dropped: batch.dropped,
      });
      send({ type: 'ack', v: PROTOCOL_VERSION, seq: batch.seq });
      if (outcome.stored) live.publishSamples(current.id, batch.samples);
      else log.debug({ seq: batch.seq }, 'duplicate batch acked, not stored again');
    } catch (err) {
      if (err instanceof StoreUnavailableError) sendError('store_unavailable', err.message, batch.seq);
      else {
        log.error({ err, seq: batch.seq }, 'batch commit failed');
        sendError('internal', 'the hub failed to store this batch; it will be retried', batch.seq);
      }
    }
  };

  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      sendError('invalid_message', 'binary frames are not accepted: send JSON text frames');
      return;
    }
    const parsed = parseFrame(AgentMessageSchema, data.toString());
    if (!parsed.ok) {
      log.warn({ code: parsed.code, reason: parsed.message }, 'rejected frame from agent');
      sendError(parsed.code, parsed.message);
      return;
    }
    const msg = parsed.value;
    if (msg.type === 'hello') {
      try {
        onHello(msg);
      } catch (err) {
        log.error({ err }, 'could not register device');
        sendError('store_unavailable', `the hub could not register this device: ${(err as Error).message}`);
      }
      return;
    }
    if (!device) {
      sendError('hello_required', 'send a hello frame before any batch', msg.seq);
      return;
    }
    void onBatch(msg, device);
  });

  socket.on('close', () => {
    clearTimeout(helloTimer);
    if (!device) return;
    fleet.disconnected(device.id);
    log.info('agent disconnected');
    const row = store.getDevice(device.id);
    if (row) live.publishDevice(fleet.summarise(row));
  });
  socket.on('error', (err) => log.warn({ err }, 'agent socket error'));
}
