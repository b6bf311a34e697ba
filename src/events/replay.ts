import { ControlState, evolveControl, initialControlState } from '../control/control.decider.js';
import { ActionEvent, ControlEvent, StoredEvent } from './event.types.js';
import { EventStore } from './event-store.js';
import { parseBoundedInt } from '../common/bounded.js';
import { DomainError, ValidationError } from '../common/errors.js';
import type { HealthInputs } from '../health/health.model.js';

export const ACTION_STATUSES = [
  'PENDING',
  'RUNNING',
  'RETRY',
  'SUCCESS',
  'FAILED',
  'DLQ',
  'UNKNOWN',
  'CANCELLED',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** The status an action event leaves its action in. */
export function statusAfter(type: ActionEvent['type']): ActionStatus {
  switch (type) {
    case 'ActionEnqueued':
    case 'ActionRequeued':
      return 'PENDING';
    case 'ActionStarted':
      return 'RUNNING';
    case 'ActionSucceeded':
      return 'SUCCESS';
    case 'ActionRetryScheduled':
      return 'RETRY';
    case 'ActionFailed':
      return 'FAILED';
    case 'ActionDeadLettered':
      return 'DLQ';
    case 'ActionOutcomeUnknown':
      return 'UNKNOWN';
    case 'ActionCancelled':
      return 'CANCELLED';
  }
}

export type ReplayedLease = Readonly<{ owner: string; epoch: number; expires_at: string }> | null;

export type ReplayedState = Readonly<{
  at_seq: number;
  flags: { paused: boolean; killed: boolean; proof_mode: boolean; version: number };
  lease: ReplayedLease;
  queue_counts: Record<string, number>;
}>;

/**
 * State as of an event, by folding the log in Node with the same rules the SQL
 * projections apply. It is independent of the read models on purpose: a test
 * compares the two at the head of the log.
 */
export class Replayer {
  private control: ControlState = initialControlState();
  private lease: ReplayedLease = null;
  private readonly actions = new Map<string, ActionStatus>();
  private seq = 0;
  private at: string | null = null;
  private lastTick: HealthInputs['lastTick'] = null;
  private ackVersion = 0;
  private ackDelayMs: number | null = null;
  private controlChangedAt: string | null = null;

  apply(e: StoredEvent): void {
    this.seq = e.seq;
    this.at = e.occurred_at;
    if (e.stream === 'control') {
      const before = this.control.version;
      this.control = evolveControl(
        this.control,
        { type: e.type, data: e.data } as ControlEvent,
        e.stream_version,
      );
      if (this.control.version !== before) this.controlChangedAt = e.occurred_at;
      if (e.type === 'ControlAcknowledged') {
        const d = e.data as { control_version: number; delay_ms: number };
        if (d.control_version >= this.ackVersion) {
          this.ackVersion = d.control_version;
          this.ackDelayMs = d.delay_ms;
        }
      }
    } else if (e.stream === 'tick') {
      this.lastTick = e.data as unknown as HealthInputs['lastTick'];
    } else if (e.stream === 'lease') {
      const d = e.data as { owner: string; epoch: number; expires_at?: string };
      if (e.type === 'LeaseAcquired')
        this.lease = { owner: d.owner, epoch: d.epoch, expires_at: d.expires_at! };
      else if (e.type === 'LeaseRenewed' && this.lease)
        this.lease = { ...this.lease, expires_at: d.expires_at! };
      else if (['LeaseReleased', 'LeaseExpired', 'LeaseForceReleased'].includes(e.type))
        this.lease = null;
    } else if (e.stream.startsWith('action:')) {
      this.actions.set(e.stream, statusAfter(e.type as ActionEvent['type']));
    }
  }

  /** Health's inputs as of the last applied event; `now` defaults to that event's time. */
  healthInputs(now?: Date): HealthInputs {
    const s = this.state();
    const { succeeded: _s, ...counts } = s.queue_counts;
    return {
      now: now ?? (this.at ? new Date(this.at) : new Date(0)),
      lastTick: this.lastTick,
      lease: s.lease,
      flags: s.flags,
      ackVersion: this.ackVersion,
      ackDelayMs: this.ackDelayMs,
      counts,
      lastEventSeq: this.seq,
      controlChangedAt: this.controlChangedAt,
    };
  }

  state(): ReplayedState {
    const counts: Record<string, number> = Object.fromEntries(
      ACTION_STATUSES.map((s) => [s.toLowerCase(), 0]),
    );
    for (const s of this.actions.values()) counts[s.toLowerCase()]++;
    const c = this.control;
    return {
      at_seq: this.seq,
      flags: { paused: c.paused, killed: c.killed, proof_mode: c.proofMode, version: c.version },
      lease: this.lease,
      queue_counts: { ...counts, succeeded: counts.success },
    };
  }
}

/**
 * Fold the log up to and including `untilSeq`. `source` gives the events
 * (default: the live table); once a prefix is archived the live table alone
 * can't give a true state, so without a source that is refused (pass
 * archiveThenLive(dir, …), src/events/archive.ts).
 */
export async function replayer(
  store: EventStore,
  untilSeq: number,
  onProgress?: (done: number, total: number) => void,
  source?: AsyncIterable<readonly StoredEvent[]>,
): Promise<Replayer> {
  const r = new Replayer();
  let done = 0;
  if (!source) {
    const first = await store.firstSeq();
    if (first > 1)
      throw new DomainError(
        `the live log starts at seq ${first}: events 1..${first - 1} were archived (LogSegmentArchived), so a replay needs the archive: aol events replay --archive DIR`,
        409,
      );
  }
  for await (const page of source ?? store.readAll(0, untilSeq)) {
    for (const e of page) r.apply(e);
    done += page.length;
    onProgress?.(done, untilSeq);
  }
  return r;
}

/** The state (flags, lease, queue counts) as of `untilSeq`. */
export async function replayTo(
  store: EventStore,
  untilSeq: number,
  onProgress?: (done: number, total: number) => void,
  source?: AsyncIterable<readonly StoredEvent[]>,
): Promise<ReplayedState> {
  return (await replayer(store, untilSeq, onProgress, source)).state();
}

/** `at` as given by a user: a seq number or an ISO time. Returns the seq to replay to. */
export async function resolveAt(store: EventStore, at: string | undefined): Promise<number> {
  if (at === undefined) return store.headSeq();
  return typeof at === 'string' && /^\d+$/.test(at)
    ? parseBoundedInt(at, 'at')
    : store.seqAt(parseInstant(at, 'at'));
}

/**
 * An ISO-8601 instant PostgreSQL can hold (years 1–9999), else a
 * ValidationError naming the parameter. An empty value is an error, not "now".
 */
export function parseInstant(raw: unknown, name: string): Date {
  const t = typeof raw === 'string' ? new Date(raw) : new Date(NaN);
  const year = t.getUTCFullYear();
  if (
    typeof raw !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}/.test(raw) ||
    Number.isNaN(t.getTime()) ||
    year < 1 ||
    year > 9999
  )
    throw new ValidationError(`${name} must be a seq number or an ISO-8601 time`);
  return t;
}
