import type { KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Db, Queryable } from '../db/db.js';
import { EventStore } from './event-store.js';
import { EventMetadata, LogEvent } from './event.types.js';
import { keyId, signHead } from '../common/signing.js';

/**
 * Signed checkpoints: the head of the log `{seq, hash, occurred_at}` signed
 * with AOL_SIGNING_KEY and recorded as a LogCheckpointSigned event on the
 * `log` stream. A copy held outside the database (the auditor's saved
 * `aol events checkpoints --json`, AOL_CHECKPOINT_DIR) is what lets verify
 * catch a database owner who recomputes the chain or cuts its tail.
 */
export const CHECKPOINT_STREAM = 'log';
export const CHECKPOINT_TYPE = 'LogCheckpointSigned';
/** occurred_at as signed: UTC with microseconds, the form the hash content uses (a JS Date keeps only ms). */
export const OCCURRED_AT_TEXT = `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A checkpoint as published: the event's data plus the seq of the event that recorded it. */
export type Checkpoint = Extract<LogEvent, { type: 'LogCheckpointSigned' }>['data'] &
  Readonly<{ event_seq?: number }>;

export type CheckpointPolicy = Readonly<{ everyEvents: number; everySeconds: number }>;

/** What the "is one due?" decision looks at, all read under the append lock. */
export type CheckpointState = Readonly<{
  headSeq: number;
  /** seq of the last LogCheckpointSigned event, 0 if none. */
  lastEventSeq: number;
  /** When the last checkpoint (or, without one, the first event) was recorded. */
  since: Date | null;
  now: Date;
}>;

/**
 * Pure: a checkpoint is due when events have been appended since the last one
 * (the checkpoint event itself does not count, so an idle log is not signed
 * over and over) and either enough of them or enough time has passed.
 */
export function checkpointDue(s: CheckpointState, p: CheckpointPolicy): boolean {
  const newEvents = s.headSeq - s.lastEventSeq;
  if (newEvents <= 0) return false;
  if (newEvents >= p.everyEvents) return true;
  return s.since !== null && (s.now.getTime() - s.since.getTime()) / 1000 >= p.everySeconds;
}

type HeadRow = { seq: number; hash: string; occurred_at: string };

async function readState(
  c: Queryable,
): Promise<{ head: HeadRow | undefined; state: CheckpointState }> {
  const { rows } = await c.query<{
    head: HeadRow | null;
    last_seq: number | null;
    last_at: Date | null;
    first_at: Date | null;
    now: Date;
  }>(
    `SELECT (SELECT row_to_json(h) FROM (SELECT seq, hash, ${OCCURRED_AT_TEXT} AS occurred_at FROM aol_events ORDER BY seq DESC LIMIT 1) h) AS head,
            l.seq AS last_seq, l.occurred_at AS last_at,
            (SELECT occurred_at FROM aol_events ORDER BY seq LIMIT 1) AS first_at,
            clock_timestamp() AS now
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT seq, occurred_at FROM aol_events WHERE type = $1 ORDER BY seq DESC LIMIT 1) l ON true`,
    [CHECKPOINT_TYPE],
  );
  const r = rows[0];
  const head = r.head ?? undefined;
  return {
    head,
    state: {
      headSeq: head?.seq ?? 0,
      lastEventSeq: r.last_seq ?? 0,
      since: r.last_at ?? r.first_at,
      now: r.now,
    },
  };
}

/**
 * Sign the head and record it, under the append lock: of several replicas and
 * workers that find a checkpoint due at the same moment, the first signs and
 * the others, once they get the lock, see the head is its event and do
 * nothing. `policy` undefined signs whenever anything was appended since the
 * last checkpoint (`aol events checkpoint`). Returns null when nothing was signed.
 */
export async function createCheckpoint(
  db: Db,
  key: KeyObject,
  metadata: EventMetadata,
  policy?: CheckpointPolicy,
): Promise<Checkpoint | null> {
  return db.tx(async (c) => {
    // A background signer never waits unboundedly behind the append lock (or a
    // table lock of a migration): it fails, says so, and tries again (checkpointer.ts).
    await c.query(`SET LOCAL lock_timeout = '10s'`);
    await EventStore.lock(c);
    const { head, state } = await readState(c);
    if (!head) return null;
    const due = policy ? checkpointDue(state, policy) : state.headSeq > state.lastEventSeq;
    if (!due) return null;
    const signed = { seq: head.seq, hash: head.hash, occurred_at: head.occurred_at };
    const data = { ...signed, signature: signHead(key, signed), key_id: keyId(key) };
    const [e] = await EventStore.append(c, [
      { stream: CHECKPOINT_STREAM, event: { type: CHECKPOINT_TYPE, data }, metadata },
    ]);
    return { ...data, event_seq: e.seq };
  });
}

/** Every checkpoint recorded in the log, oldest first. */
export async function listCheckpoints(db: Queryable, after = 0): Promise<Checkpoint[]> {
  const { rows } = await db.query<{ event_seq: number; data: Checkpoint }>(
    `SELECT seq AS event_seq, data FROM aol_events WHERE type = $1 AND seq > $2 ORDER BY seq`,
    [CHECKPOINT_TYPE, after],
  );
  return rows.map((r) => ({ ...r.data, event_seq: r.event_seq }));
}

/** The latest checkpoint, or undefined. */
export async function lastCheckpoint(db: Queryable): Promise<Checkpoint | undefined> {
  const { rows } = await db.query<{ event_seq: number; data: Checkpoint }>(
    `SELECT seq AS event_seq, data FROM aol_events WHERE type = $1 ORDER BY seq DESC LIMIT 1`,
    [CHECKPOINT_TYPE],
  );
  return rows[0] ? { ...rows[0].data, event_seq: rows[0].event_seq } : undefined;
}

function fileName(cp: Checkpoint): string {
  return `checkpoint-${String(cp.seq).padStart(12, '0')}.json`;
}

/** Write one checkpoint to AOL_CHECKPOINT_DIR (write then rename, so a reader never sees half a file). */
export function mirrorCheckpoint(dir: string, cp: Checkpoint): void {
  mkdirSync(dir, { recursive: true });
  const target = join(dir, fileName(cp));
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(cp, null, 2) + '\n');
  renameSync(tmp, target);
}

export function mirroredNames(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((n) => /^checkpoint-\d+\.json$/.test(n)));
  } catch {
    return new Set();
  }
}

export function isMirrored(names: Set<string>, cp: Checkpoint): boolean {
  return names.has(fileName(cp));
}

/** The checkpoints in AOL_CHECKPOINT_DIR; an unreadable file is reported, never skipped silently. */
export function readCheckpointDir(dir: string): {
  checkpoints: Checkpoint[];
  unreadable: string[];
} {
  const checkpoints: Checkpoint[] = [];
  const unreadable: string[] = [];
  for (const name of [...mirroredNames(dir)].sort()) {
    try {
      checkpoints.push(parseCheckpoint(JSON.parse(readFileSync(join(dir, name), 'utf8'))));
    } catch {
      unreadable.push(name);
    }
  }
  return { checkpoints, unreadable };
}

/** Validate one checkpoint read from a file (the auditor's copy or the mirror directory). */
export function parseCheckpoint(x: unknown): Checkpoint {
  const o = x as Record<string, unknown>;
  if (
    !o ||
    typeof o !== 'object' ||
    !Number.isInteger(o.seq) ||
    typeof o.hash !== 'string' ||
    typeof o.occurred_at !== 'string' ||
    typeof o.signature !== 'string' ||
    typeof o.key_id !== 'string' ||
    (o.event_seq !== undefined && !Number.isInteger(o.event_seq))
  ) {
    throw new Error('not a checkpoint: needs seq, hash, occurred_at, signature, key_id');
  }
  const cp = {
    seq: o.seq as number,
    hash: o.hash,
    occurred_at: o.occurred_at,
    signature: o.signature,
    key_id: o.key_id,
  };
  return o.event_seq === undefined ? cp : { ...cp, event_seq: o.event_seq as number };
}
