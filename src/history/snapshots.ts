import { createHash } from 'node:crypto';
import { Db, Queryable } from '../db/db.js';
import { mapDbError } from '../db/db-errors.js';
import { DomainError, ValidationError } from '../common/errors.js';
import type { EventMetadata } from '../events/event.types.js';
import type { EventNotifier } from '../events/event-notifier.js';
import { LogJob } from '../events/log-job.js';
import {
  foldInto,
  liveSource,
  EventSource,
  Replayer,
  ReplayerSnapshot,
  SNAPSHOT_FORMAT,
} from './replay.js';

/** The type of the event that records each snapshot, on the `log` stream (docs/events.md). */
export const SNAPSHOT_TYPE = 'SnapshotTaken';
/** Held (session-level, try only) by the process taking periodic snapshots. */
export const SNAPSHOT_LOCK = 7310019;

export type TakenSnapshot = Readonly<{
  seq: number;
  sha256: string;
  bytes: number;
  /** The SnapshotTaken event's seq; null when a snapshot of this seq already existed. */
  event_seq: number | null;
}>;

/** A snapshot's stored bytes: its JSON, keys in the order ReplayerSnapshot lists them. */
export function encodeSnapshot(s: ReplayerSnapshot): Buffer {
  return Buffer.from(JSON.stringify(s), 'utf8');
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * The newest snapshot at or before `seq` that may be used: its stored bytes
 * hash (here, in Node) to the sha256 its SnapshotTaken event recorded in the
 * hash-chained log, and they decode to a state of that seq. Any other is
 * skipped (reported to `onRejected`) for the one before it; undefined when
 * none is left, and the caller folds from seq 1.
 */
export async function nearestSnapshot(
  db: Queryable,
  seq: number,
  onRejected?: (seq: number, why: string) => void,
): Promise<ReplayerSnapshot | undefined> {
  let below = seq;
  for (;;) {
    const { rows } = await db.query<{
      seq: number;
      state: Buffer;
      type: string | null;
      data: { seq?: unknown; sha256?: unknown } | null;
    }>(
      `SELECT s.seq, s.state, e.type, e.data
         FROM aol_snapshots s LEFT JOIN aol_events e ON e.seq = s.event_seq
        WHERE s.seq <= $1 ORDER BY s.seq DESC LIMIT 4`,
      [below],
    );
    if (rows.length === 0) return undefined;
    for (const r of rows) {
      const why = problem(r);
      if (why === undefined) return JSON.parse(r.state.toString('utf8')) as ReplayerSnapshot;
      onRejected?.(r.seq, why);
    }
    below = rows[rows.length - 1].seq - 1;
  }
}

function problem(r: {
  seq: number;
  state: Buffer;
  type: string | null;
  data: { seq?: unknown; sha256?: unknown } | null;
}): string | undefined {
  if (r.type !== SNAPSHOT_TYPE || r.data?.seq !== r.seq)
    return 'no SnapshotTaken event in the log records it';
  if (sha256(r.state) !== r.data.sha256)
    return 'its state does not match the sha256 its SnapshotTaken event recorded';
  try {
    const s = JSON.parse(r.state.toString('utf8')) as Partial<ReplayerSnapshot>;
    if (s.v !== SNAPSHOT_FORMAT || s.seq !== r.seq) return `its format is not ${SNAPSHOT_FORMAT}`;
  } catch {
    return 'its state is not JSON';
  }
  return undefined;
}

/** Start a fold at `seq`: from the nearest usable snapshot, else from the start of the log. */
export async function replayerAt(
  db: Queryable,
  seq: number,
  o: {
    source?: EventSource;
    onProgress?: (done: number, total: number) => void;
    onRejected?: (seq: number, why: string) => void;
    /** false: fold from seq 1, ignoring snapshots. */
    snapshots?: boolean;
  } = {},
): Promise<Replayer> {
  const snap = o.snapshots === false ? undefined : await nearestSnapshot(db, seq, o.onRejected);
  if (!o.source) {
    // Once a prefix is archived (LogSegmentArchived) the live table alone
    // gives a true state only from a snapshot at or after its boundary.
    const { rows } = await db.query<{ seq: number | null }>(
      'SELECT min(seq) AS seq FROM aol_events',
    );
    const first = rows[0].seq ?? 0;
    if (first > 1 && (snap?.seq ?? 0) < first - 1)
      throw new DomainError(
        `the live log starts at seq ${first}: events 1..${first - 1} were archived (LogSegmentArchived) and no snapshot at or after seq ${first - 1} covers them, so this replay needs the archive: aol events replay --archive DIR`,
        409,
      );
  }
  return foldInto(new Replayer(snap), o.source ?? liveSource(db), seq, o.onProgress);
}

/**
 * Store `r`'s state as the snapshot of its seq, recorded by a SnapshotTaken
 * event in the same transaction (aol_record_snapshot(), which only the service
 * role may run). A snapshot of that seq taken already by another process is
 * left as it is (event_seq null).
 */
export async function recordSnapshot(
  db: Queryable,
  r: Replayer,
  metadata: EventMetadata,
): Promise<TakenSnapshot> {
  const bytes = encodeSnapshot(r.snapshot());
  try {
    const { rows } = await db.query<{ event_seq: number | null }>(
      'SELECT aol_record_snapshot($1, $2, $3::jsonb) AS event_seq',
      [r.atSeq, bytes, JSON.stringify(metadata)],
    );
    return {
      seq: r.atSeq,
      sha256: sha256(bytes),
      bytes: bytes.length,
      event_seq: rows[0].event_seq,
    };
  } catch (err) {
    throw mapDbError(err);
  }
}

/** Take a snapshot at `seq` (on demand: `aol events snapshot`). */
export async function takeSnapshot(
  db: Queryable,
  seq: number,
  metadata: EventMetadata,
  onProgress?: (done: number, total: number) => void,
  source?: EventSource,
): Promise<TakenSnapshot> {
  const r = await replayerAt(db, seq, { onProgress, source });
  if (r.atSeq !== seq)
    throw new ValidationError(`no snapshot of seq ${seq}: the log holds seq 1 to ${r.atSeq}`);
  return recordSnapshot(db, r, metadata);
}

export type SnapshotterOptions = Readonly<{
  everyEvents: number;
  metadata: EventMetadata;
  log: (level: 'info' | 'warn', msg: string) => void;
}>;

/**
 * Takes a snapshot at every multiple of `everyEvents` the log has reached,
 * catching up from the newest snapshot (one fold over the gap, however many
 * snapshots it leaves). Several processes may run one: a session advisory
 * lock (tried, never waited for) lets one catch up at a time, and
 * aol_record_snapshot() keeps one snapshot per seq whatever happens.
 */
export class Snapshotter {
  private lastSeq = 0;
  private readonly job: LogJob;

  constructor(
    private readonly db: Db,
    private readonly o: SnapshotterOptions,
  ) {
    this.job = new LogJob({
      run: () => this.catchUp(),
      due: (p) => !p || p.seq - this.lastSeq >= this.o.everyEvents,
      everyMs: 30_000,
      retryMs: 5000,
      onError: (err) => this.o.log('warn', `snapshot failed: ${err.message}; retrying in 5 s`),
    });
  }

  start(notifier?: EventNotifier): this {
    this.job.start(notifier);
    return this;
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  poke(): void {
    this.job.poke();
  }

  /** Take every snapshot due now; returns how many this process took. */
  async catchUp(): Promise<number> {
    const every = this.o.everyEvents;
    return this.db.withClient(async (c) => {
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        SNAPSHOT_LOCK,
      ]);
      if (!rows[0].ok) return 0;
      try {
        const { rows: s } = await c.query<{ head: number | null; last: number | null }>(
          `SELECT (SELECT max(seq) FROM aol_events) AS head, (SELECT max(seq) FROM aol_snapshots) AS last`,
        );
        const head = s[0].head ?? 0;
        let next = (Math.floor((s[0].last ?? 0) / every) + 1) * every;
        this.lastSeq = next - every;
        let taken = 0;
        let r: Replayer | undefined;
        while (next <= head && !this.job.stopped) {
          // from the previous snapshot's state, so the per-action map stays small
          r = r
            ? await foldInto(new Replayer(r.snapshot()), liveSource(this.db), next)
            : await replayerAt(this.db, next, {
                onRejected: (seq, why) =>
                  this.o.log('warn', `snapshot of seq ${seq} not used: ${why}`),
              });
          const t = await recordSnapshot(this.db, r, this.o.metadata);
          if (t.event_seq !== null) taken++;
          this.lastSeq = next;
          next += every;
        }
        if (taken > 0)
          this.o.log('info', `took ${taken} snapshot(s), the last of seq ${this.lastSeq}`);
        return taken;
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [SNAPSHOT_LOCK]);
      }
    });
  }
}

/** The one entry point: a snapshotter when AOL_SNAPSHOT_EVERY_EVENTS is not 0, else nothing. */
export function startSnapshotter(
  db: Db,
  config: Readonly<{ snapshotEveryEvents: number }>,
  metadata: EventMetadata,
  log: SnapshotterOptions['log'],
  notifier?: EventNotifier,
): Snapshotter | undefined {
  if (config.snapshotEveryEvents <= 0) return undefined;
  return new Snapshotter(db, { everyEvents: config.snapshotEveryEvents, metadata, log }).start(
    notifier,
  );
}

/** The state (flags, lease, queue counts) as of `seq`, from the nearest usable snapshot. */
export async function replayTo(
  db: Queryable,
  seq: number,
  o: Parameters<typeof replayerAt>[2] = {},
): Promise<ReturnType<Replayer['state']>> {
  return (await replayerAt(db, seq, o)).state();
}
