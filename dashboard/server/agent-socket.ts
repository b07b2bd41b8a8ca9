// One agent connection (/ws/agent): hello → welcome, then batches → commit → ack. Every
// frame is validated; a bad one gets an error frame and is logged, and the connection (and
// every other agent) carries on.
import type { RawData, WebSocket } from 'ws';
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
import { sqliteCode, type DeviceRow, type Store } from '../store/store.js';
import { formatClockStep } from '../../shared/format.js';
import { ClockEstimator, ClockSteps, correctionFor, correctSamples, futureSamples, MAX_FUTURE_MS } from './clock.js';
import type { Fleet } from './fleet.js';
import { StoreUnavailableError, type IngestQueue } from './ingest-queue.js';
import type { LiveFeed } from './live-feed.js';
import { DEFAULT_LIMITS, FrameLimiter, LogThrottle, type SocketLimit } from './rate-limit.js';

export interface AgentSocketDeps {
  store: Store;
  ingest: IngestQueue;
  fleet: Fleet;
  live: LiveFeed;
  log: Logger;
  /** An agent that has not said hello by then is disconnected. */
  helloTimeoutMs?: number;
  /** Frames per second this connection may send (rate-limit.ts has the defaults and why). */
  limit?: SocketLimit;
  /** With authentication on: the device token that opened this connection and the one device id it may speak for. */
  auth?: { tokenId: string; deviceId: string };
  /** Told of every accepted hello (the experiment timeout reads its openExperiments). */
  onHello?: (deviceNum: number, hello: Hello) => void;
}

/** Sends an error frame (also used by the hub for a token revoked while connected). */
export function sendAgentError(socket: WebSocket, code: ErrorCode, message: string, seq?: number): void {
  if (socket.readyState === socket.OPEN) {
    socket.send(JSON.stringify({ type: 'error', v: PROTOCOL_VERSION, code, message, ...(seq !== undefined ? { seq } : {}) } satisfies HubMessage));
  }
}

export function attachAgentSocket(socket: WebSocket, remote: string, deps: AgentSocketDeps): void {
  const { store, ingest, fleet, live } = deps;
  let log = deps.log.child({ remote });
  let device: DeviceRow | null = null;
  /** This device's clock offset, from the hello and then every batch's sentAt. */
  let clock = new ClockEstimator();
  /** ms subtracted from this device's sample times (0 unless it is > 2 min off). */
  let correction = 0;
  /** Wall-clock steps between a batch's creation and its send (clock.ts ClockSteps), once hello names the device. */
  let steps: ClockSteps | null = null;
  let intervalMs = 0;
  const limiter = new FrameLimiter(deps.limit ?? DEFAULT_LIMITS.agent);
  // Rejections are logged, but a peer sending garbage must not flood the log.
  const rejectLog = new LogThrottle();
  const warnRejected = (fields: Record<string, unknown>, msg: string): void => {
    const suppressed = rejectLog.allow();
    if (suppressed >= 0) log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  };

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
    if (deps.auth && hello.device.id !== deps.auth.deviceId) {
      log.warn({ tokenId: deps.auth.tokenId, tokenDevice: deps.auth.deviceId, helloDevice: hello.device.id }, 'agent token is for another device: closing');
      sendError(
        'unauthorized',
        `this token (ewd_${deps.auth.tokenId}_…) is for device ${deps.auth.deviceId}, not ${hello.device.id}: create one for this device with \`edgewatch token create ${hello.device.id}\``,
      );
      socket.close(4401, 'token is for another device');
      return;
    }
    if (device && device.id !== hello.device.id) {
      // Online state and sequence numbers are per device: one connection speaks for one.
      sendError('invalid_message', `this connection already speaks for device ${device.id}; open another connection for ${hello.device.id}`);
      return;
    }
    const firstHello = device === null;
    try {
      device = store.upsertDevice(hello, Date.now());
    } catch (err) {
      // The disk cannot take the hello's refresh. A known device is welcomed all the same (its
      // batches are refused until writes work: it keeps them); a new one is asked to come back.
      if (sqliteCode(err)) ingest.writeFailed(err, `registering device ${hello.device.id}`);
      const known = store.getDevice(hello.device.id);
      if (!known) throw err;
      device = known;
    }
    deps.onHello?.(device.num, hello);
    clock = new ClockEstimator(device.clockOffsetMs);
    correction = correctionFor(clock.offsetMs);
    steps = ClockSteps.for(store, device.num);
    intervalMs = hello.intervalMs;
    try {
      // A backlog whose delivery spans a reconnect (or a hub restart) adds to the same event.
      steps.resume(store.clockEvents(device.num, 1)[0] ?? null, Date.now());
    } catch {
      // Reading is best effort: without it a new event row starts.
    }
    log = deps.log.child({ remote, device: device.id });
    if (firstHello) fleet.connected(device.id);
    clearTimeout(helloTimer);
    send({ type: 'welcome', v: PROTOCOL_VERSION, lastSeq: device.lastSeq, hubTime: Date.now() });
    log.info({ deviceName: device.name, lastSeq: device.lastSeq, capabilities: hello.capabilities }, 'agent connected');
    live.publishDevice(fleet.summarise(device));
  };

  const onBatch = async (batch: Batch, current: DeviceRow): Promise<void> => {
    const receivedAt = Date.now();
    if (batch.sentAt !== undefined) {
      const before = clock.offsetMs;
      const { offsetMs, stepped } = clock.observe(batch.sentAt, receivedAt);
      if (stepped) log.info({ fromMs: before, toMs: offsetMs }, 'device clock jumped (NTP sync or clock set): following it');
    }
    const nextCorrection = correctionFor(clock.offsetMs);
    if (nextCorrection !== correction) {
      if (nextCorrection !== 0 && correction === 0) {
        log.warn({ clockOffsetMs: clock.offsetMs }, 'device clock is more than 2 minutes off: storing its samples on the hub clock');
      } else if (nextCorrection === 0) log.info({ clockOffsetMs: clock.offsetMs }, 'device clock is right again: no more correction');
      correction = nextCorrection;
    }
    // First undo a wall-clock step between creation and send (a backlog spooled on a clock
    // that was then fixed), then the device's current offset.
    const retimed = steps ? steps.retime(batch, receivedAt, correction, intervalMs) : { samples: batch.samples, shiftMs: 0, crossBoot: false };
    const samples = correctSamples(retimed.samples, correction);
    const future = futureSamples(samples, receivedAt);
    if (future > 0) {
      // Stored, these would sit in the future for hours or years: refuse them, loudly and counted.
      ingest.futureSamplesRejected += future;
      try {
        store.addRejectedSamples(current.num, future);
      } catch {
        // Counting is best effort: a failing disk must not turn this into another error.
      }
      const why =
        `${future} of ${batch.samples.length} samples lie more than ${MAX_FUTURE_MS / 60_000} minutes in the hub's future ` +
        `(device clock offset ${clock.offsetMs ?? 'unknown'} ms, ${correction ? `corrected by ${correction} ms` : 'not corrected'}): batch refused; check the device's clock`;
      log.warn({ seq: batch.seq, future, clockOffsetMs: clock.offsetMs, correction }, 'refused a batch with samples in the future');
      sendError('invalid_message', why, batch.seq);
      return;
    }
    try {
      const outcome = await ingest.submit({
        deviceNum: current.num,
        seq: batch.seq,
        samples,
        receivedAt,
        dropped: batch.dropped,
        sentAt: batch.sentAt,
        tCorrection: correction,
        clockOffsetMs: clock.offsetMs,
      });
      send({ type: 'ack', v: PROTOCOL_VERSION, seq: batch.seq });
      if (outcome.stored && retimed.shiftMs !== 0 && steps) recordStep(current, retimed.shiftMs, retimed.crossBoot, samples, receivedAt, batch.seq);
      if (outcome.stored) live.publishSamples(current.id, samples);
      if (outcome.stored && (current.clockCorrected !== (correction !== 0))) {
        // Corrected or no longer: browsers show (or hide) the clock warning.
        const row = store.getDevice(current.id);
        if (row) {
          device = row;
          live.publishDevice(fleet.summarise(row));
        }
      }
      else log.debug({ seq: batch.seq }, 'duplicate batch acked, not stored again');
    } catch (err) {
      if (err instanceof StoreUnavailableError) sendError('store_unavailable', err.message, batch.seq);
      else {
        log.error({ err, seq: batch.seq }, 'batch commit failed');
        sendError('internal', 'the hub failed to store this batch; it will be retried', batch.seq);
      }
    }
  };

  /** Counts a stored re-timed batch into its clock event (one row per step), warning once per step. */
  const recordStep = (current: DeviceRow, shiftMs: number, crossBoot: boolean, samples: readonly { t: number }[], at: number, seq: number): void => {
    let first = Infinity;
    let last = -Infinity;
    for (const s of samples) {
      first = Math.min(first, s.t);
      last = Math.max(last, s.t);
    }
    const { event, started } = steps!.record(shiftMs, samples.length, first, last, at);
    try {
      store.saveClockEvent(current.num, event);
    } catch (err) {
      // The samples are stored; only the note is lost. A failing disk is reported by ingest.
      log.debug({ err }, 'could not save a clock event');
    }
    if (started) {
      const direction = shiftMs > 0 ? 'back' : 'forward';
      log.warn(
        { stepMs: shiftMs, seq, firstT: first, crossBoot, clockOffsetMs: clock.offsetMs },
        crossBoot
          ? `device samples from before its last reboot were stamped ${formatClockStep(shiftMs)} ${shiftMs > 0 ? 'ahead' : 'behind'} of when they can have been taken: re-timing them onto the hub clock (no monotonic link across a reboot: placement approximate, see clock.ts)`
          : `device clock stepped ${direction} ${formatClockStep(shiftMs)} while these samples waited to be sent: re-timing them by the step`,
      );
    }
  };

  socket.on('message', (data, isBinary) => {
    // Nothing a peer sends may throw out of here: an exception in a ws listener would take the
    // whole hub (every agent) down.
    try {
      onMessage(data, isBinary);
    } catch (err) {
      warnRejected({ err }, 'frame from agent could not be handled');
      sendError('internal', 'the hub could not handle this frame');
    }
  });

  const onMessage = (data: RawData, isBinary: boolean): void => {
    if (socket.readyState !== socket.OPEN) return; // closing: frames already buffered are ignored
    const verdict = limiter.check();
    if (verdict === 'close') {
      log.warn({ dropped: limiter.dropped }, 'agent keeps exceeding the frame rate limit: closing');
      socket.close(1008, 'rate limit exceeded');
      return;
    }
    if (verdict === 'drop') {
      // Not stored and not acked: the seq (when there is one) tells the agent to send it again later.
      const seq = isBinary ? undefined : batchSeq(data.toString());
      warnRejected({ dropped: limiter.dropped, seq }, 'agent over the frame rate limit: frame dropped');
      sendError('rate_limited', 'too many frames on this connection: this one was dropped; slow down and resend', seq);
      return;
    }
    if (isBinary) {
      warnRejected({ code: 'invalid_message' }, 'rejected binary frame from agent');
      sendError('invalid_message', 'binary frames are not accepted: send JSON text frames');
      return;
    }
    const parsed = parseFrame(AgentMessageSchema, data.toString());
    if (!parsed.ok) {
      warnRejected({ code: parsed.code, reason: parsed.message.slice(0, 300) }, 'rejected frame from agent');
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
        // Without a welcome the agent would wait forever: let it reconnect (with backoff) later.
        if (!device) socket.close(1013, 'store unavailable: try again later');
      }
      return;
    }
    if (!device) {
      sendError('hello_required', 'send a hello frame before any batch', msg.seq);
      return;
    }
    void onBatch(msg, device);
  };

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

/** The seq of a batch frame, read cheaply (no schema) for the error frame of a dropped one. */
function batchSeq(raw: string): number | undefined {
  const m = /^\s*\{[^]{0,200}?"seq"\s*:\s*(\d{1,16})[,}\s]/.exec(raw.slice(0, 256));
  const seq = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}
