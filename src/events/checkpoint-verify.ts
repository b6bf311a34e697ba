import type { KeyObject } from 'node:crypto';
import { Queryable } from '../db/db.js';
import { Checkpoint, listCheckpoints, OCCURRED_AT_TEXT, readCheckpointDir } from './checkpoints.js';
import { archiveRecords, ArchiveVerifyResult, verifyArchive } from './archive.js';
import { ChainStart, EventStore, GENESIS_HASH, VerifyResult } from './event-store.js';
import { keyId, verifyHead } from '../common/signing.js';

export const OUTSIDE_COPY_NOTE =
  "Checkpoints read from the database can be deleted together with the events they cover: only a copy held outside the database (the auditor's saved `aol events checkpoints --json` file, or AOL_CHECKPOINT_DIR) can prove that no tail was cut.";

export type SourcedCheckpoint = Readonly<{ checkpoint: Checkpoint; source: string }>;

export type CheckpointedVerifyResult = VerifyResult &
  Readonly<{
    /** For a rewritten chain: the events the signatures no longer vouch for (which of them changed can't be told). */
    bad_range?: readonly [number, number];
    checkpoints: Readonly<{
      checked: number;
      by_source: Readonly<Record<string, number>>;
      last_verified_seq: number | null;
      key_id: string | null;
    }>;
    unchecked: readonly string[];
    note: string;
  }>;

type Problem = { seq: number; problem: string; range?: [number, number] };

/** The hash and time the log holds at each checkpointed seq. */
export async function logHeadsAt(
  db: Queryable,
  seqs: readonly number[],
): Promise<Map<number, { hash: string; occurred_at: string }>> {
  const { rows } = await db.query<{ seq: number; hash: string; occurred_at: string }>(
    `SELECT seq, hash, ${OCCURRED_AT_TEXT} AS occurred_at FROM aol_events WHERE seq = ANY($1::bigint[])`,
    [seqs],
  );
  return new Map(rows.map((r) => [r.seq, { hash: r.hash, occurred_at: r.occurred_at }]));
}

/**
 * Pure: combine the chain walk with the signed checkpoints. A checkpoint with
 * a bad signature fails at its own event; a valid one beyond the head means
 * the tail was cut (first missing seq); a valid one whose seq has another hash
 * in the log means the chain was rewritten after the last checkpoint that
 * still matches, so the first seq it no longer vouches for is reported. The
 * earliest problem wins.
 */
export function checkAgainstCheckpoints(
  chain: VerifyResult,
  headSeq: number,
  heads: ReadonlyMap<number, { hash: string; occurred_at: string }>,
  sourced: readonly SourcedCheckpoint[],
  key: KeyObject | undefined,
  unchecked: string[] = [],
): CheckpointedVerifyResult {
  const problems: Problem[] = [];
  if (!chain.ok && chain.first_bad_seq !== null)
    problems.push({ seq: chain.first_bad_seq, problem: chain.problem ?? 'hash chain broken' });
  const bySource: Record<string, number> = {};
  for (const s of sourced) bySource[s.source] = (bySource[s.source] ?? 0) + 1;
  const kid = key ? keyId(key) : null;
  const valid: SourcedCheckpoint[] = [];
  if (!key) {
    unchecked.push(
      `no public key: the signatures of ${sourced.length} checkpoint(s) were not checked, so a chain rewritten with recomputed hashes or a cut tail can't be detected (pass the public key \`aol keys generate\` printed)`,
    );
  } else {
    for (const s of sourced) {
      const cp = s.checkpoint;
      if (verifyHead(key, cp, cp.signature)) valid.push(s);
      else
        problems.push({
          seq: cp.event_seq ?? cp.seq,
          problem: `the checkpoint of seq ${cp.seq} (${s.source}) has a bad signature${cp.key_id !== kid ? ` (it names key ${cp.key_id}; the given key is ${kid})` : ''}`,
        });
    }
    if (sourced.length === 0)
      unchecked.push(
        'no signed checkpoint to check against: a chain rewritten with recomputed hashes or a cut tail would go unnoticed',
      );
  }
  valid.sort((a, b) => a.checkpoint.seq - b.checkpoint.seq);
  let lastGood = 0;
  let tailReported = false;
  for (const { checkpoint: cp, source } of valid) {
    if (cp.seq > headSeq) {
      if (!tailReported)
        problems.push({
          seq: headSeq + 1,
          problem: `the log ends at seq ${headSeq}, but a signed checkpoint (${source}) covers seq ${cp.seq}: events from ${headSeq + 1} on were deleted`,
        });
      tailReported = true;
      continue;
    }
    const log = heads.get(cp.seq);
    if (!log) {
      problems.push({
        seq: cp.seq,
        problem: `event ${cp.seq}, signed by a checkpoint (${source}), is missing`,
      });
    } else if (log.hash !== cp.hash || log.occurred_at !== cp.occurred_at) {
      problems.push({
        seq: lastGood + 1,
        range: [lastGood + 1, cp.seq],
        problem: `events ${lastGood + 1}..${cp.seq} were rewritten: the checkpoint (${source}) signed hash ${cp.hash.slice(0, 16)}… at seq ${cp.seq}, the log has ${log.hash.slice(0, 16)}…`,
      });
    } else lastGood = Math.max(lastGood, cp.seq);
  }
  if (key && valid.length > 0 && lastGood < headSeq)
    unchecked.push(`events after seq ${lastGood} are not yet covered by a signed checkpoint`);
  problems.sort((a, b) => a.seq - b.seq);
  const first = problems[0];
  return {
    ok: !first,
    checked: chain.checked,
    first_bad_seq: first?.seq ?? null,
    ...(first ? { problem: first.problem } : {}),
    ...(first?.range ? { bad_range: first.range } : {}),
    checkpoints: {
      checked: key ? sourced.length : 0,
      by_source: bySource,
      last_verified_seq: lastGood > 0 ? lastGood : null,
      key_id: kid,
    },
    unchecked,
    note: OUTSIDE_COPY_NOTE,
  };
}

export type VerifyLogOptions = Readonly<{
  key?: KeyObject;
  /** The auditor's saved copy, already parsed. */
  file?: readonly Checkpoint[];
  dir?: string;
  /**
   * Walk only the events after the last checkpoint whose signature and head
   * verify (default: every live event, so any edit is found; SPEC: verify
   * exits 1 with the first bad seq on tampering).
   */
  incremental?: boolean;
  /** An archive directory (aol events archive --out): verified as the beginning of the chain. */
  archive?: string;
  onProgress?: (checked: number, total: number) => void;
}>;

export type VerifyMode = Readonly<{
  /** incremental: the chain was walked from `from_seq` on, the signed checkpoint there vouching for what is before it. */
  mode: 'full' | 'incremental';
  from_seq: number;
}>;

/**
 * The last checkpoint that can be trusted without walking what it covers:
 * its signature verifies with the key and the log holds the signed hash and
 * time at its seq. Undefined without a key or such a checkpoint.
 */
export function lastTrustedCheckpoint(
  sourced: readonly SourcedCheckpoint[],
  heads: ReadonlyMap<number, { hash: string; occurred_at: string }>,
  key: KeyObject | undefined,
  lowest = 0,
): Checkpoint | undefined {
  if (!key) return undefined;
  let best: Checkpoint | undefined;
  for (const { checkpoint: cp } of sourced) {
    if (best && cp.seq <= best.seq) continue;
    if (cp.seq < lowest) continue;
    const log = heads.get(cp.seq);
    if (!log || log.hash !== cp.hash || log.occurred_at !== cp.occurred_at) continue;
    if (verifyHead(key, cp, cp.signature)) best = cp;
  }
  return best;
}

/**
 * Walk the chain, then check it against every checkpoint: those in the log,
 * in AOL_CHECKPOINT_DIR and in the auditor's file. Checkpoints are read before
 * the head, so one appended meanwhile can't look like a cut tail. By default
 * every live event is walked (streamed in pages); `incremental` starts at the
 * last trusted checkpoint (lastTrustedCheckpoint), so its cost is the events
 * appended since — an edit before it that kept the stored hashes is then
 * vouched for by the signature and not seen.
 *
 * After archiving the live log starts above seq 1: the events before it
 * must be accounted for by a LogSegmentArchived record whose last hash the
 * first live event follows; with `archive` (a directory), the archive is
 * verified as the chain's beginning (verifyArchive) and the live log must
 * continue it.
 */
export async function verifyLog(
  store: EventStore,
  db: Queryable,
  o: VerifyLogOptions,
): Promise<CheckpointedVerifyResult & VerifyMode & { archive?: ArchiveSummary }> {
  const sourced: SourcedCheckpoint[] = [];
  const unchecked: string[] = [];
  for (const c of await listCheckpoints(db)) sourced.push({ checkpoint: c, source: 'log' });
  if (o.dir) {
    const d = readCheckpointDir(o.dir);
    for (const c of d.checkpoints) sourced.push({ checkpoint: c, source: 'AOL_CHECKPOINT_DIR' });
    for (const n of d.unreadable)
      unchecked.push(`AOL_CHECKPOINT_DIR/${n} is not a readable checkpoint`);
  }
  for (const c of o.file ?? []) sourced.push({ checkpoint: c, source: 'file' });
  const headSeq = await store.headSeq();
  const firstLive = await store.firstSeq();
  const seqs = [...new Set(sourced.map((s) => s.checkpoint.seq))];
  const heads = await logHeadsAt(db, seqs);
  let base: ChainStart = { seq: 0, hash: GENESIS_HASH };
  let archived: ArchiveVerifyResult | undefined;
  let prefixProblem: VerifyResult | undefined;
  const records = await archiveRecords(db);
  if (o.archive) {
    const wanted = new Set(seqs.filter((s) => s < firstLive));
    archived = await verifyArchive(o.archive, o.key, wanted, heads, (n) =>
      o.onProgress?.(n, headSeq),
    );
    unchecked.push(...archived.unchecked);
    const recorded = new Set([...records, ...archived.records].map((r) => r.manifest_sha256));
    const unrecorded = archived.manifests.find((m) => !recorded.has(m.sha256));
    if (!archived.ok) prefixProblem = archived;
    else if (firstLive > 0 && archived.end.seq < firstLive - 1)
      prefixProblem = {
        ok: false,
        checked: archived.checked,
        first_bad_seq: archived.end.seq + 1,
        problem: `events ${archived.end.seq + 1}..${firstLive - 1} are neither in the archive nor in the live log`,
      };
    else if (unrecorded)
      prefixProblem = {
        ok: false,
        checked: archived.checked,
        first_bad_seq: unrecorded.first_seq,
        problem: `archive manifest ${unrecorded.name} (sha256 ${unrecorded.sha256.slice(0, 16)}…) is not one a LogSegmentArchived event recorded: it was altered or replaced`,
      };
    else base = archived.end;
  } else if (firstLive > 1) {
    const rec = records.find((r) => r.last_seq === firstLive - 1);
    const covered = Math.max(0, ...records.map((r) => r.last_seq).filter((x) => x < firstLive));
    if (!rec)
      prefixProblem = {
        ok: false,
        checked: 0,
        first_bad_seq: covered + 1,
        problem: `the live log starts at seq ${firstLive} and no LogSegmentArchived event accounts for events ${covered + 1}..${firstLive - 1}: they were deleted`,
      };
    else {
      base = { seq: rec.last_seq, hash: rec.last_hash };
      unchecked.push(
        `events 1..${rec.last_seq} are archived (LogSegmentArchived at seq ${rec.event_seq}, ${rec.manifest}, sha256 ${rec.manifest_sha256}): verify them with --archive DIR`,
      );
    }
  }
  // Checkpoints over archived events can only be checked against the archive.
  const checkable = sourced.filter(
    (s) => s.checkpoint.seq >= firstLive || heads.has(s.checkpoint.seq),
  );
  if (checkable.length < sourced.length)
    unchecked.push(
      `${sourced.length - checkable.length} checkpoint(s) sign archived events: pass --archive DIR to check them`,
    );
  const trusted =
    !o.incremental || prefixProblem
      ? undefined
      : lastTrustedCheckpoint(checkable, heads, o.key, base.seq);
  const from = trusted ? { seq: trusted.seq, hash: trusted.hash } : base;
  let chain: VerifyResult = prefixProblem ?? (await store.verify(o.onProgress, from));
  if (archived && !prefixProblem) chain = { ...chain, checked: chain.checked + archived.checked };
  if (trusted)
    unchecked.push(
      `events ${base.seq + 1}..${trusted.seq} were not walked: the signed checkpoint of seq ${trusted.seq} vouches for them (an edit that kept the stored hashes is found by a full verify, the default)`,
    );
  else if (o.incremental && !prefixProblem && headSeq > 0)
    unchecked.push('no trusted checkpoint to start from: the whole log was walked');
  const r = checkAgainstCheckpoints(chain, headSeq, heads, checkable, o.key, unchecked);
  return {
    ...r,
    mode: trusted ? 'incremental' : 'full',
    from_seq: from.seq + 1,
    ...(archived
      ? {
          archive: {
            dir: o.archive!,
            checked: archived.checked,
            last_seq: archived.end.seq,
            manifests: archived.manifests,
          },
        }
      : {}),
  };
}

export type ArchiveSummary = Readonly<{
  dir: string;
  checked: number;
  last_seq: number;
  manifests: ArchiveVerifyResult['manifests'];
}>;
