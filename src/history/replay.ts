import { ControlState, evolveControl, initialControlState } from '../control/control.decider.js';
import {
  ActionEvent,
  isActionEvent,
  isActionType,
  isControlEvent,
  isLeaseEvent,
  StoredEvent,
} from '../events/event.types.js';
import { EventStore } from '../events/event-store.js';
import type { Queryable } from '../db/db.js';
import { parseBoundedInt } from '../common/bounded.js';
import { DomainError, ValidationError } from '../common/errors.js';
import type { HealthInputs } from '../health/health.model.js';
import { ACTION_STATUSES, ActionStatus, evolveAction } from '../actions/actions.decider.js';

// The one action status list and what each event leaves an action in: the actions decider.
export { ACTION_STATUSES, type ActionStatus } from '../actions/actions.decider.js';

export type ReplayedLease = Readonly<{ owner: string; epoch: number; expires_at: string }> | null;

export type ReplayedState = Readonly<{
  at_seq: number;
  flags: { paused: boolean; killed: boolean; proof_mode: boolean; version: number };
  lease: ReplayedLease;
  queue_counts: Record<string, number>;
}>;

/**
 * Everything a fold carries from one event to the next, as plain JSON: what a
 * snapshot stores (snapshots.ts). Per-action statuses are not in it; only
 * their counts. A fold that starts from a snapshot looks up, from the log, the
 * status before the snapshot of each action its events touch (EventSource.lastTypes).
 */
export type ReplayerSnapshot = Readonly<{
  v: 1;
  seq: number;
  at: string | null;
  control: ControlState;
  lease: ReplayedLease;
  /** The TTL the lease was acquired with (absent in snapshots taken before it was kept: 0). */
  lease_ttl_seconds?: number;
  last_tick: HealthInputs['lastTick'];
  ack_version: number;
  ack_delay_ms: number | null;
  control_changed_at: string | null;
  counts: Readonly<Record<ActionStatus, number>>;
}>;

export const SNAPSHOT_FORMAT = 1;

const zeroCounts = (): Record<ActionStatus, number> =>
  Object.fromEntries(ACTION_STATUSES.map((s) => [s, 0])) as Record<ActionStatus, number>;

/**
 * State as of an event, by folding the log in Node with the same rules the SQL
 * projections apply. It is independent of the read models on purpose: a test
 * compares the two at the head of the log.
 */
export class Replayer {
  private control: ControlState = initialControlState();
  private lease: ReplayedLease = null;
  /** The TTL of the lease's LeaseAcquired: renewals are not events (issue 15). */
  private leaseTtlSeconds = 0;
  /** Each action's status after the events applied; null: it had none at `base`. */
  private readonly actions = new Map<string, ActionStatus | null>();
  private readonly counts = zeroCounts();
  private seq = 0;
  private at: string | null = null;
  private lastTick: HealthInputs['lastTick'] = null;
  private ackVersion = 0;
  private ackDelayMs: number | null = null;
  private controlChangedAt: string | null = null;
  /** The seq of the snapshot this fold started from (0: the start of the log). */
  readonly base: number;

  constructor(from?: ReplayerSnapshot) {
    this.base = from?.seq ?? 0;
    if (!from) return;
    this.seq = from.seq;
    this.at = from.at;
    this.control = { ...from.control };
    this.lease = from.lease && { ...from.lease };
    this.leaseTtlSeconds = from.lease_ttl_seconds ?? 0;
    this.lastTick = from.last_tick;
    this.ackVersion = from.ack_version;
    this.ackDelayMs = from.ack_delay_ms;
    this.controlChangedAt = from.control_changed_at;
    for (const s of ACTION_STATUSES) this.counts[s] = from.counts[s] ?? 0;
  }

  /** The seq of the last event applied. */
  get atSeq(): number {
    return this.seq;
  }

  /** The action streams in `events` whose status at `base` this fold does not know yet. */
  unknownActions(events: readonly FoldEvent[]): string[] {
    if (this.base === 0) return [];
    const out = new Set<string>();
    for (const e of events)
      if (e.stream.startsWith('action:') && !this.actions.has(e.stream)) out.add(e.stream);
    return [...out];
  }

  /** The statuses at `base` of the actions unknownActions() named (null: none yet). */
  prime(statuses: ReadonlyMap<string, ActionStatus | null>): void {
    for (const [stream, s] of statuses) if (!this.actions.has(stream)) this.actions.set(stream, s);
  }

  apply(e: FoldEvent): void {
    this.seq = e.seq;
    this.at = e.occurred_at;
    if (isControlEvent(e)) {
      const before = this.control.version;
      this.control = evolveControl(this.control, e, e.stream_version);
      if (this.control.version !== before) this.controlChangedAt = e.occurred_at;
      if (e.type === 'ControlAcknowledged' && e.data.control_version >= this.ackVersion) {
        this.ackVersion = e.data.control_version;
        this.ackDelayMs = e.data.delay_ms;
      }
    } else if (e.type === 'TickRecorded') {
      const t = e.data;
      this.lastTick = t;
      // Renewals are not events (issue 15): a tick of the lease's epoch
      // shows it live then, and the next one is due within a minute (at the
      // default 30 s tick interval), each renewal adding a TTL.
      if (this.lease && t.epoch === this.lease.epoch) {
        const until = new Date(t.finished_at).getTime() + (60 + this.leaseTtlSeconds) * 1000;
        if (until > new Date(this.lease.expires_at).getTime())
          this.lease = { ...this.lease, expires_at: new Date(until).toISOString() };
      }
    } else if (isLeaseEvent(e)) {
      switch (e.type) {
        case 'LeaseAcquired':
          this.lease = { owner: e.data.owner, epoch: e.data.epoch, expires_at: e.data.expires_at };
          this.leaseTtlSeconds = e.data.ttl_seconds ?? 0;
          break;
        case 'LeaseRenewed':
          if (this.lease) this.lease = { ...this.lease, expires_at: e.data.expires_at };
          break;
        case 'LeaseReleased':
        case 'LeaseExpired':
        case 'LeaseForceReleased':
          this.lease = null;
          break;
        case 'FencedWriteRejected':
          break;
      }
    } else if (isActionEvent(e)) {
      const before = this.actions.get(e.stream);
      if (before === undefined && this.base > 0)
        throw new Error(`replay: the status of ${e.stream} at seq ${this.base} was not looked up`);
      if (before) this.counts[before]--;
      const after = evolveAction(e.type);
      this.counts[after]++;
      this.actions.set(e.stream, after);
    }
  }

  /** What a snapshot of this fold stores. */
  snapshot(): ReplayerSnapshot {
    return {
      v: SNAPSHOT_FORMAT,
      seq: this.seq,
      at: this.at,
      control: { ...this.control },
      lease: this.lease,
      lease_ttl_seconds: this.leaseTtlSeconds,
      last_tick: this.lastTick,
      ack_version: this.ackVersion,
      ack_delay_ms: this.ackDelayMs,
      control_changed_at: this.controlChangedAt,
      counts: { ...this.counts },
    };
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
      ACTION_STATUSES.map((s) => [s.toLowerCase(), this.counts[s]]),
    );
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
 * What a fold reads of an event: a StoredEvent without its metadata and
 * hashes. `data` may be empty for an action event (its type says everything).
 */
type FoldOf<E extends StoredEvent> = E extends StoredEvent
  ? E['type'] extends ActionEvent['type']
    ? Readonly<Pick<E, 'seq' | 'stream' | 'stream_version' | 'type' | 'occurred_at'>> &
        Readonly<{ data?: unknown }>
    : Readonly<Pick<E, 'seq' | 'stream' | 'stream_version' | 'type' | 'occurred_at' | 'data'>>
  : never;
export type FoldEvent = FoldOf<StoredEvent>;

type FoldRow = Readonly<{
  seq: number;
  stream: string;
  stream_version: number;
  type: string;
  occurred_at: Date;
  data: unknown;
}>;

/** The one place a row of aol_events becomes a fold event (as toStoredEvent is for a whole one). */
function toFoldEvent(r: FoldRow): FoldEvent {
  return { ...r, occurred_at: r.occurred_at.toISOString() } as FoldEvent;
}

/**
 * Where a fold reads the log from. The live table (liveSource) today; a source
 * that reads archived segments and then the live table can stand in for it.
 */
export interface EventSource {
  /** The events with after < seq <= until, in seq order, a page at a time (StoredEvents will do). */
  pages(after: number, until: number): AsyncIterable<readonly FoldEvent[]>;
  /** Of each stream, the type of its last event at or before `seq`; a stream with none is left out. */
  lastTypes(streams: readonly string[], seq: number): Promise<ReadonlyMap<string, string>>;
}

/**
 * The live aol_events table as an EventSource. It reads only what a fold
 * needs: no metadata or hashes, and no data of action events, which is most
 * of a busy log's bytes (a third of the time of a fold from a snapshot).
 */
export function liveSource(db: Queryable, pageSize = 5000): EventSource {
  return {
    async *pages(after, until) {
      let last = after;
      for (;;) {
        const { rows } = await db.query<FoldRow>(
          `SELECT seq, stream, stream_version, type, occurred_at,
                  CASE WHEN stream LIKE 'action:%' THEN '{}'::jsonb ELSE data END AS data
             FROM aol_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
          [last, until, pageSize],
        );
        if (rows.length === 0) return;
        last = rows[rows.length - 1].seq;
        yield rows.map(toFoldEvent);
        if (rows.length < pageSize) return;
      }
    },
    async lastTypes(streams, seq) {
      const { rows } = await db.query<{ stream: string; type: string | null }>(
        `SELECT s.stream,
                (SELECT e.type FROM aol_events e WHERE e.stream = s.stream AND e.seq <= $2
                  ORDER BY e.seq DESC LIMIT 1) AS type
           FROM unnest($1::text[]) AS s(stream)`,
        [streams, seq],
      );
      return new Map(rows.filter((r) => r.type !== null).map((r) => [r.stream, r.type!]));
    },
  };
}

/** Fold the events after `r`'s last one, up to and including `untilSeq`, into `r`. */
export async function foldInto(
  r: Replayer,
  source: EventSource,
  untilSeq: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Replayer> {
  const total = Math.max(0, untilSeq - r.atSeq);
  let done = 0;
  for await (const page of source.pages(r.atSeq, untilSeq)) {
    const unknown = r.unknownActions(page);
    if (unknown.length > 0) {
      const types = await source.lastTypes(unknown, r.base);
      r.prime(
        new Map(
          unknown.map((s) => {
            const t = types.get(s);
            // No event of it at or before base: a new action, unless its first
            // event here is not its first (the earlier ones were archived).
            const first = page.find((e) => e.stream === s);
            if (!t && first && first.stream_version > 1)
              throw new DomainError(
                `${s} has events at or before seq ${r.base} that the log read no longer holds (archived): this replay needs the archive: aol events replay --archive DIR`,
                409,
              );
            if (t !== undefined && !isActionType(t))
              throw new Error(
                `replay: ${s}'s last event at seq ${r.base} is a ${t}, not an action event`,
              );
            return [s, t ? evolveAction(t) : null];
          }),
        ),
      );
    }
    for (const e of page) r.apply(e);
    done += page.length;
    onProgress?.(done, total);
  }
  return r;
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
