// Device clocks. A Raspberry Pi without an RTC boots in 1970 until NTP syncs; a lab box may be
// hours off. The hub estimates each device's offset (device clock − hub clock) from the agent's
// send time of each batch (`sentAt`, or the hello's `clock`) against its own receive time, and
// when the device is far off stores samples on the hub's timeline instead (t − offset).
// ClockSteps (below) handles a clock stepped while batches waited in the agent's spool.
import type { Batch, Sample } from '../../shared/protocol.js';

/** A device this far off (either way) has its sample times corrected onto the hub's clock. */
export const CORRECT_BEYOND_MS = 2 * 60_000;
/** After correction, a sample more than this far in the hub's future is refused. */
export const MAX_FUTURE_MS = 10 * 60_000;
/** A reading this far from the estimate is a clock step (NTP sync, manual set): follow it at once. */
export const STEP_MS = 5_000;
/** Weight of a new reading in the running estimate (exponential smoothing). */
export const SMOOTHING = 0.2;
/** Corrections are whole seconds: stable sample times, per-second inference rows stay aligned. */
const CORRECTION_STEP_MS = 1000;

/**
 * Running estimate of one device's clock offset. Each reading is sentAt − receivedAt (device −
 * hub, so ahead is positive; biased low by the one-way network delay, milliseconds on a LAN).
 * Small differences are smoothed; a difference over STEP_MS replaces the estimate outright, so a
 * device whose NTP finally syncs is followed by its very next batch.
 */
export class ClockEstimator {
  private estimate: number | null;

  constructor(initialOffsetMs: number | null = null) {
    this.estimate = initialOffsetMs;
  }

  /** Adds a reading and returns the new estimate (ms). `stepped` tells a jump was followed. */
  observe(sentAt: number, receivedAt: number): { offsetMs: number; stepped: boolean } {
    const raw = sentAt - receivedAt;
    const prev = this.estimate;
    const stepped = prev !== null && Math.abs(raw - prev) > STEP_MS;
    this.estimate = prev === null || stepped ? raw : prev + SMOOTHING * (raw - prev);
    return { offsetMs: Math.round(this.estimate), stepped };
  }

  get offsetMs(): number | null {
    return this.estimate === null ? null : Math.round(this.estimate);
  }
}

/** What to subtract from this device's sample times: 0 unless it is more than 2 minutes off. */
export function correctionFor(offsetMs: number | null): number {
  if (offsetMs === null || Math.abs(offsetMs) <= CORRECT_BEYOND_MS) return 0;
  return Math.round(offsetMs / CORRECTION_STEP_MS) * CORRECTION_STEP_MS;
}

/** Samples moved onto the hub's clock (t − correction), with their inference and experiment times. */
export function correctSamples(samples: Sample[], correction: number): Sample[] {
  if (correction === 0) return samples;
  const shift = (t: number): number => Math.max(0, t - correction);
  return samples.map((s) => ({
    ...s,
    t: shift(s.t),
    ...(s.i ? { i: s.i.map((a) => ({ ...a, t: shift(a.t) })) } : {}),
    ...(s.e ? { e: s.e.map((e) => ({ ...e, start: shift(e.start), ...(typeof e.end === 'number' ? { end: shift(e.end) } : {}) })) } : {}),
  }));
}

/** Samples (already corrected) that lie more than MAX_FUTURE_MS in the hub's future. */
export function futureSamples(samples: readonly Sample[], hubNow: number): number {
  let n = 0;
  for (const s of samples) if (s.t > hubNow + MAX_FUTURE_MS) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Clock steps while batches waited. A board without an RTC runs hours ahead, spools while the
// hub is unreachable, then NTP steps its clock back: when the backlog is finally sent, sentAt
// is right (offset ≈ 0), so the offset above cannot tell that those samples were stamped on
// the wrong clock, and they look hours in the future. Agents that stamp batches with a boot id
// and the monotonic clock (Batch.clock at creation, sentMono/sentBoot at send) let the hub see
// the step itself: the monotonic clock is never stepped, so within one boot
//   step = (wall − mono at creation) − (sentAt − sentMono)
// is how far the wall clock jumped between creation and send (positive: it was set back).

/** Steps no larger than this are the jitter of reading two clocks, or NTP slewing: ignored. */
export const RETIME_BEYOND_MS = STEP_MS;
/** Batches of one step arriving with gaps shorter than this are one event (one backlog). */
const EVENT_GAP_MS = 10 * 60_000;
/** A stored event this recent is continued after a reconnect or hub restart. */
const RESUME_WITHIN_MS = 6 * 3_600_000;
/** Boots remembered per device for re-timing (their anchors); older ones are forgotten. */
const MAX_ANCHORS = 8;

/** How far the wall clock jumped between this batch's creation and its send, or null without a monotonic link. */
export function wallStepMs(batch: Batch): number | null {
  const c = batch.clock;
  if (!c || batch.sentAt === undefined || batch.sentMono === undefined || batch.sentBoot !== c.boot) return null;
  return c.wall - c.mono - (batch.sentAt - batch.sentMono);
}

/** What retime() did to one batch. */
export interface Retimed {
  /** The samples, re-timed where a step was found, still on the device's (current) clock: apply the usual correction next. */
  samples: Sample[];
  /** ms subtracted from their times (whole seconds), 0 when nothing was re-timed. */
  shiftMs: number;
  /** The batch was created before the device's last reboot (no monotonic link: placed by the rule in retime). */
  crossBoot: boolean;
}

/** One clock step and the samples re-timed for it (a row of clock_events). */
export interface ClockStepEvent {
  /** Hub clock, ms, when the step was first seen. */
  at: number;
  stepMs: number;
  samples: number;
  /** Re-timed range, hub timeline, ms. */
  firstT: number;
  lastT: number;
}

/**
 * Per-device clock-step state: each boot's anchor (hub time at that boot's monotonic zero,
 * learned from the send of its batches, so it holds however wrong the wall clock was), the
 * newest batch of the current boot, and the step event being aggregated. One per device
 * (ClockSteps.for), so an anchor learned on one connection serves after a reconnect.
 */
export class ClockSteps {
  private readonly anchors = new Map<string, number>();
  /** Newest batch of the sending boot seen: its seq and creation on the hub timeline. */
  private newest: { boot: string; seq: number; tHub: number } | null = null;
  private current: ClockStepEvent | null = null;
  private static readonly byStore = new WeakMap<object, Map<number, ClockSteps>>();

  /** The state of device `deviceNum` of `store` (a WeakMap: a closed hub's state goes with it). */
  static for(store: object, deviceNum: number): ClockSteps {
    let devices = ClockSteps.byStore.get(store);
    if (!devices) ClockSteps.byStore.set(store, (devices = new Map()));
    let steps = devices.get(deviceNum);
    if (!steps) devices.set(deviceNum, (steps = new ClockSteps()));
    return steps;
  }

  /** When record() last counted a batch: a step seen after a long quiet is a new event. */
  private lastRecordAt = 0;

  /**
   * Continue an event found in the store (a backlog whose delivery spans a reconnect or a hub
   * restart), if it began less than RESUME_WITHIN_MS before `now`.
   */
  resume(event: ClockStepEvent | null, now: number): void {
    if (this.current || !event || now - event.at > RESUME_WITHIN_MS) return;
    this.current = { ...event };
    this.lastRecordAt = now;
  }

  /**
   * Re-times one batch. `correction` is the usual offset correction that will be applied
   * after; `intervalMs` the device's sampling interval (from its hello), for the cross-boot rule.
   *
   * Same boot: the step (wallStepMs) is exact; beyond RETIME_BEYOND_MS the samples are moved
   * back by it.
   *
   * Across a reboot there is no monotonic link, and the rule is, for the old boot:
   *  1. An anchor for that boot (the hub heard from it before, live): its times follow from
   *     its monotonic clock, exactly (mono + anchor).
   *  2. Otherwise its own clock is kept when plausible, i.e. its samples lie before the
   *     latest moment they can have happened. That moment is the earlier of the current boot's
   *     start (hub time at monotonic zero: receivedAt − sentMono) and, when a batch of the
   *     current boot was seen, that batch's time minus one interval per sequence number
   *     between them (one batch per tick, so at least that long passed). A batch later than
   *     that is placed at it, and the boot gets an anchor from it, so the rest of that boot's
   *     backlog follows at its monotonic distance: the backlog keeps its spacing and ends
   *     just before the new boot's first samples, late by the reboot's downtime at most.
   *  Samples are never placed after receivedAt, so nothing re-timed is refused as future.
   */
  retime(batch: Batch, receivedAt: number, correction: number, intervalMs: number): Retimed {
    const c = batch.clock;
    const none: Retimed = { samples: batch.samples, shiftMs: 0, crossBoot: false };
    if (!c || batch.sentAt === undefined || batch.sentMono === undefined || batch.sentBoot === undefined) return none;
    this.learn(batch.sentBoot, receivedAt - batch.sentMono);
    if (c.boot === batch.sentBoot) {
      const step = wallStepMs(batch)!;
      const tHub = c.mono + this.anchors.get(c.boot)!;
      if (!this.newest || this.newest.boot !== c.boot || batch.seq > this.newest.seq) this.newest = { boot: c.boot, seq: batch.seq, tHub };
      if (Math.abs(step) <= RETIME_BEYOND_MS) return none;
      const shiftMs = roundToSecond(step);
      return { samples: correctSamples(batch.samples, shiftMs), shiftMs, crossBoot: false };
    }
    let anchor = this.anchors.get(c.boot);
    if (anchor === undefined) {
      let latest = receivedAt - batch.sentMono;
      if (this.newest && this.newest.boot === batch.sentBoot && this.newest.seq > batch.seq && intervalMs > 0) {
        latest = Math.min(latest, this.newest.tHub - (this.newest.seq - batch.seq) * intervalMs);
      }
      if (c.wall - correction <= latest) return none;
      anchor = latest - c.mono;
      this.learn(c.boot, anchor);
    }
    // Where this batch was created on the hub timeline, expressed on the device's current
    // clock (the correction is subtracted after), then as a shift of its wall clock times.
    const shiftMs = roundToSecond(c.wall - correction - (c.mono + anchor));
    if (Math.abs(shiftMs) <= RETIME_BEYOND_MS) return none;
    const ceiling = receivedAt + correction;
    const samples = correctSamples(batch.samples, shiftMs).map((s) => (s.t > ceiling ? { ...s, t: ceiling } : s));
    return { samples, shiftMs, crossBoot: true };
  }

  /**
   * Counts a stored re-timed batch into the current step event (a new one when the shift
   * differs from it by more than a second). Returns the event to save and whether it is new.
   * `first`/`last` are the batch's sample times as stored (hub timeline).
   */
  record(shiftMs: number, samples: number, first: number, last: number, at: number): { event: ClockStepEvent; started: boolean } {
    const cur = this.current;
    const quiet = at - this.lastRecordAt > EVENT_GAP_MS;
    this.lastRecordAt = at;
    if (cur && !quiet && Math.abs(cur.stepMs - shiftMs) <= CORRECTION_STEP_MS) {
      cur.samples += samples;
      cur.firstT = Math.min(cur.firstT, first);
      cur.lastT = Math.max(cur.lastT, last);
      return { event: { ...cur }, started: false };
    }
    // (device, at) is the table's key: two steps seen in the same ms stay two rows.
    const start = cur && at <= cur.at ? cur.at + 1 : at;
    this.current = { at: start, stepMs: shiftMs, samples, firstT: first, lastT: last };
    return { event: { ...this.current }, started: true };
  }

  private learn(boot: string, anchor: number): void {
    this.anchors.delete(boot);
    this.anchors.set(boot, anchor);
    if (this.anchors.size > MAX_ANCHORS) this.anchors.delete(this.anchors.keys().next().value!);
  }
}

function roundToSecond(ms: number): number {
  return Math.round(ms / CORRECTION_STEP_MS) * CORRECTION_STEP_MS;
}
