import { createHash } from 'node:crypto';
import { Db, NamedQuery, Queryable } from '../db/db.js';
import { mapDbError } from '../db/db-errors.js';
import { NewEvent, StoredEvent } from './event.types.js';

/** The transaction-scoped lock aol_append() takes; see migrations/0001. */
export const APPEND_LOCK = 7310001;
const GENESIS = '0'.repeat(64);

/** A row of aol_events as pg returns it. */
export type EventRow = Readonly<{
  seq: number;
  stream: string;
  stream_version: number;
  type: string;
  data: unknown;
  metadata: StoredEvent['metadata'];
  occurred_at: Date;
  prev_hash: string;
  hash: string;
}>;

/**
 * The one place a row becomes a typed event. Only this codebase's appenders
 * write aol_events (aol_append, checked by the stream check of migration
 * 0011), each from a DomainEvent, so a row's data has its type's shape;
 * readers narrow by `type` from here on and never cast.
 */
export function toStoredEvent(r: EventRow): StoredEvent {
  return { ...r, occurred_at: r.occurred_at.toISOString() } as StoredEvent;
}

export type EventFilter = Readonly<{
  after?: number;
  limit?: number;
  stream?: string;
  type?: string;
  /** Heartbeats (HEARTBEAT_SQL): 'include' (the default), 'exclude' or 'only'. */
  heartbeats?: HeartbeatFilter;
}>;

export const HEARTBEAT_FILTERS = ['include', 'exclude', 'only'] as const;
export type HeartbeatFilter = (typeof HEARTBEAT_FILTERS)[number];

/**
 * A heartbeat says only "the worker is still there": a LeaseRenewed (older
 * logs; no longer written, issue 15) or a TickRecorded that attempted no
 * action. Everything else is a change made by someone or a worker's decision.
 */
export const HEARTBEAT_SQL = `(type = 'LeaseRenewed' OR (type = 'TickRecorded' AND coalesce((data->>'actions_attempted')::int, 0) = 0))`;
/** The columns of aol_events, named: a prepared `SELECT *` would fail once a migration adds one. */
const EVENT_COLUMNS =
  'seq, stream, stream_version, type, data, metadata, occurred_at, prev_hash, hash';

/**
 * The read of `filter` as a named statement, one text (and name) per
 * combination of filters: followers re-read on every NOTIFY (the worker's on
 * the reaction path), and planning the one catch-all text (`$2 IS NULL OR
 * stream = $2 …`) against every partition cost several times its execution
 * (0.1–0.4 ms against ~15 µs, docs/benchmarks.md §1).
 */
function readQuery(filter: EventFilter): NamedQuery {
  const values: unknown[] = [filter.after ?? 0];
  const where = ['seq > $1'];
  if (filter.stream !== undefined) where.push(`stream = $${values.push(filter.stream)}`);
  if (filter.type !== undefined) where.push(`type = $${values.push(filter.type)}`);
  const heartbeats = filter.heartbeats ?? 'include';
  if (heartbeats !== 'include')
    where.push(heartbeats === 'only' ? HEARTBEAT_SQL : `NOT ${HEARTBEAT_SQL}`);
  const limit = values.push(filter.limit ?? 100);
  return {
    name: `aol_read_${filter.stream !== undefined ? 's' : ''}${filter.type !== undefined ? 't' : ''}_${heartbeats}`,
    text: `SELECT ${EVENT_COLUMNS} FROM aol_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${limit}`,
    values,
  };
}

export type VerifyResult = Readonly<{
  ok: boolean;
  checked: number;
  first_bad_seq: number | null;
  problem?: string;
}>;

/**
 * Appends to and reads from aol_events. Appends run in the caller's
 * transaction (so the decision, the event and its projection commit together);
 * the database assigns seq, stream_version, occurred_at and the hash.
 */
export class EventStore {
  /** Set by the metrics module to time appends made by this process. */
  static onAppend: ((seconds: number, count: number) => void) | undefined;

  constructor(private readonly db: Db) {}

  /**
   * Serialise this transaction with every other appender from here on. Take it
   * before reading the state a decision is based on, and before locking any
   * read-model row, so lock order is always append lock, then rows.
   */
  static async lock(client: Queryable): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
  }

  static async append(client: Queryable, events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const started = performance.now();
    try {
      if (events.length === 1) {
        const [e] = events;
        const { rows } = await client.query<EventRow>(
          'SELECT * FROM aol_append($1, $2, $3, $4, $5)',
          [
            e.stream,
            e.expectedVersion ?? null,
            e.event.type,
            JSON.stringify(e.event.data),
            JSON.stringify(e.metadata),
          ],
        );
        return rows.map(toStoredEvent);
      }
      const batch = events.map((e) => ({
        stream: e.stream,
        expected_version: e.expectedVersion ?? null,
        type: e.event.type,
        data: e.event.data,
        metadata: e.metadata,
      }));
      const { rows } = await client.query<EventRow>('SELECT * FROM aol_append_batch($1::jsonb)', [
        JSON.stringify(batch),
      ]);
      return rows.map(toStoredEvent);
    } catch (err) {
      throw mapDbError(err);
    } finally {
      EventStore.onAppend?.((performance.now() - started) / 1000, events.length);
    }
  }

  async read(filter: EventFilter = {}, client: Queryable = this.db): Promise<StoredEvent[]> {
    const { rows } = await client.query<EventRow>(readQuery(filter));
    return rows.map(toStoredEvent);
  }

  /** Every event after `after` (up to `until`), page by page. */
  async *readAll(
    after = 0,
    until = Number.MAX_SAFE_INTEGER,
    pageSize = 5000,
  ): AsyncGenerator<StoredEvent[]> {
    let last = after;
    for (;;) {
      const { rows } = await this.db.query<EventRow>(
        'SELECT * FROM aol_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
        [last, until, pageSize],
      );
      if (rows.length === 0) return;
      last = rows[rows.length - 1].seq;
      yield rows.map(toStoredEvent);
      if (rows.length < pageSize) return;
    }
  }

  async headSeq(): Promise<number> {
    const { rows } = await this.db.query<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM aol_events',
    );
    return rows[0].seq ?? 0;
  }

  /** The last seq that occurred at or before `at`. */
  async seqAt(at: Date): Promise<number> {
    const { rows } = await this.db.query<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM aol_events WHERE occurred_at <= $1',
      [at],
    );
    return rows[0].seq ?? 0;
  }

  /** The lowest live seq (after an archived prefix it is above 1), 0 for an empty log. */
  async firstSeq(): Promise<number> {
    const { rows } = await this.db.query<{ seq: number | null }>(
      'SELECT min(seq) AS seq FROM aol_events',
    );
    return rows[0].seq ?? 0;
  }

  /** The chain as stored from `after` on: seq, prev_hash, hash and the hashed content, in keyset pages (constant memory). */
  async *chainLinks(after: number, pageSize = VERIFY_PAGE): AsyncGenerator<ChainLink[]> {
    let last = after;
    for (;;) {
      const { rows } = await this.db.query<ChainLink>(
        `SELECT seq, prev_hash, hash,
                aol_event_content(seq, stream, stream_version, type, data, metadata, occurred_at) AS content
           FROM aol_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [last, pageSize],
      );
      if (rows.length === 0) return;
      last = rows[rows.length - 1].seq;
      yield rows;
      if (rows.length < pageSize) return;
    }
  }

  /**
   * Walk the hash chain, from the first event or from a trusted point
   * (`from`: a seq and the hash the chain holds there, e.g. a checkpoint whose
   * signature verified). Each event must follow its predecessor (seq + 1),
   * carry its hash as prev_hash, and hash to its own hash. The content text
   * comes from aol_event_content() in Postgres; the SHA-256 is recomputed
   * here, independently of the database. Pages are read by keyset, so memory
   * stays constant whatever the log's length.
   */
  async verify(
    onProgress?: (checked: number, total: number) => void,
    from: ChainStart = { seq: 0, hash: GENESIS },
  ): Promise<VerifyResult> {
    const total = (await this.headSeq()) - from.seq;
    return walkChain(this.chainLinks(from.seq), from, (n) => onProgress?.(n, total));
  }
}

export type ChainLink = { seq: number; prev_hash: string; hash: string; content: string };
/** Where a walk starts: the seq before the first event it checks and the hash there (0 and the genesis hash for the whole log). */
export type ChainStart = Readonly<{ seq: number; hash: string }>;
export const GENESIS_HASH = GENESIS;
const VERIFY_PAGE = 5000;

/** The hash an event must have: SHA-256 of its prev_hash and its content text (migrations/0001). */
export function eventHash(prevHash: string, content: string): string {
  return createHash('sha256')
    .update(prevHash + content, 'utf8')
    .digest('hex');
}

/**
 * Check a run of chain links, page by page, against a start point: the
 * first problem ends the walk with its seq. Used for the live table and for
 * archive segments alike.
 */
export async function walkChain(
  pages: AsyncIterable<readonly ChainLink[]>,
  from: ChainStart,
  onProgress?: (checked: number) => void,
): Promise<VerifyResult & { last: ChainStart }> {
  let prevSeq = from.seq;
  let prevHash = from.hash;
  let checked = 0;
  const bad = (seq: number, problem: string) => ({
    ok: false,
    checked,
    first_bad_seq: seq,
    problem,
    last: { seq: prevSeq, hash: prevHash },
  });
  for await (const rows of pages) {
    for (const r of rows) {
      if (r.seq !== prevSeq + 1) return bad(prevSeq + 1, `event ${prevSeq + 1} is missing`);
      if (r.prev_hash !== prevHash)
        return bad(r.seq, 'prev_hash does not match the previous event');
      if (eventHash(r.prev_hash, r.content) !== r.hash)
        return bad(r.seq, 'content does not match its hash');
      prevSeq = r.seq;
      prevHash = r.hash;
      checked++;
    }
    onProgress?.(checked);
  }
  return { ok: true, checked, first_bad_seq: null, last: { seq: prevSeq, hash: prevHash } };
}
