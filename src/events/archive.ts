import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Db, Queryable } from '../db/db.js';
import { OCCURRED_AT_TEXT } from './checkpoints.js';
import {
  ChainLink,
  ChainStart,
  EventStore,
  GENESIS_HASH,
  toStoredEvent,
  walkChain,
} from './event-store.js';
import { mapDbError } from '../db/db-errors.js';
import { EventMetadata, LogEvent, StoredEvent } from './event.types.js';
import { keyId, signManifest, verifyManifest } from '../common/signing.js';

/**
 * Archiving (docs/operations.md, "Retention"): whole partitions below the
 * head leave the live table as NDJSON segment files plus a manifest signed
 * with the checkpoint key, recorded as LogSegmentArchived in the log in the
 * same transaction that drops them (aol_archive_segment, migrations/0020).
 *
 * A segment line is one event exactly as its hash covers it: `data` and
 * `metadata` are kept as the jsonb text PostgreSQL hashed (a JSON string;
 * JSON.parse it for the value) and `occurred_at` with microseconds, so an
 * archive verifies offline, without the database.
 */
export const ARCHIVE_TYPE = 'LogSegmentArchived';
export const MANIFEST_FORMAT = 'aol-archive-v1';

export type ArchiveRecord = Extract<LogEvent, { type: 'LogSegmentArchived' }>['data'];

export type SegmentFile = Readonly<{
  name: string;
  first_seq: number;
  last_seq: number;
  count: number;
  bytes: number;
  sha256: string;
}>;

export type Manifest = Readonly<{
  format: string;
  first_seq: number;
  last_seq: number;
  count: number;
  first_prev_hash: string;
  last_hash: string;
  created_at: string;
  key_id: string;
  files: readonly SegmentFile[];
  signature: string;
}>;

/** One line of a segment file. */
export type ArchivedLine = Readonly<{
  seq: number;
  stream: string;
  stream_version: number;
  type: string;
  data: string;
  metadata: string;
  occurred_at: string;
  prev_hash: string;
  hash: string;
}>;

/** The text the signature covers: every field but the signature, in a fixed order. */
export function canonicalManifest(m: Omit<Manifest, 'signature'>): string {
  return JSON.stringify({
    format: m.format,
    first_seq: m.first_seq,
    last_seq: m.last_seq,
    count: m.count,
    first_prev_hash: m.first_prev_hash,
    last_hash: m.last_hash,
    created_at: m.created_at,
    key_id: m.key_id,
    files: m.files.map((f) => ({
      name: f.name,
      first_seq: f.first_seq,
      last_seq: f.last_seq,
      count: f.count,
      bytes: f.bytes,
      sha256: f.sha256,
    })),
  });
}

/** The content aol_event_content() hashes (migrations/0001), from a segment line. */
export function lineContent(l: ArchivedLine): string {
  return `${l.seq}|${l.stream}|${l.stream_version}|${l.type}|${l.data}|${l.metadata}|${l.occurred_at}`;
}

export function toStored(l: ArchivedLine): StoredEvent {
  return toStoredEvent({
    seq: l.seq,
    stream: l.stream,
    stream_version: l.stream_version,
    type: l.type,
    data: JSON.parse(l.data) as unknown,
    metadata: JSON.parse(l.metadata) as EventMetadata,
    occurred_at: new Date(l.occurred_at),
    prev_hash: l.prev_hash,
    hash: l.hash,
  });
}

const pad = (n: number) => String(n).padStart(12, '0');
export const manifestName = (first: number, last: number) =>
  `manifest-${pad(first)}-${pad(last)}.json`;
const segmentName = (first: number, last: number) => `events-${pad(first)}-${pad(last)}.ndjson`;

export type Partition = Readonly<{ partition: string; first_seq: number; end_seq: number }>;

export async function livePartitions(db: Queryable): Promise<Partition[]> {
  const { rows } = await db.query<Partition>(
    'SELECT partition, first_seq, end_seq FROM aol_events_partitions()',
  );
  return rows;
}

export type ArchivePlan = Readonly<{
  /** First and last seq to archive; undefined when no whole partition lies before the boundary. */
  range?: readonly [number, number];
  partitions: readonly Partition[];
  requestedBefore: number;
  firstLive: number;
  head: number;
  /** The seqs an archive may end at (the last seq of each partition below the head's). */
  boundaries: readonly number[];
}>;

/**
 * Which events `--before` selects: whole partitions only, all of whose seqs
 * are below `before`, never the head's. `before` is a seq, or a time (the
 * first event at or after it).
 */
export async function planArchive(db: Queryable, before: number | Date): Promise<ArchivePlan> {
  const { rows } = await db.query<{ first: number | null; head: number | null; at: number | null }>(
    `SELECT min(seq) AS first, max(seq) AS head,
            (SELECT min(seq) FROM aol_events WHERE $1::timestamptz IS NOT NULL AND occurred_at >= $1) AS at
       FROM aol_events`,
    [before instanceof Date ? before : null],
  );
  const first = rows[0].first ?? 0;
  const head = rows[0].head ?? 0;
  const requestedBefore =
    before instanceof Date ? (rows[0].at ?? head + 1) : Math.min(before, head + 1);
  const parts = (await livePartitions(db)).filter((p) => p.end_seq - 1 < head && first > 0);
  const boundaries = parts.map((p) => p.end_seq - 1).filter((b) => b >= first);
  const chosen = parts.filter((p) => p.end_seq <= requestedBefore && p.end_seq - 1 >= first);
  const last = chosen.length ? chosen[chosen.length - 1].end_seq - 1 : undefined;
  return {
    range: last !== undefined ? [first, last] : undefined,
    partitions: chosen,
    requestedBefore,
    firstLive: first,
    head,
    boundaries,
  };
}

async function* archivedRows(
  db: Queryable,
  first: number,
  last: number,
  pageSize = 5000,
): AsyncGenerator<ArchivedLine[]> {
  let after = first - 1;
  while (after < last) {
    const { rows } = await db.query<ArchivedLine>(
      `SELECT seq, stream, stream_version, type, data::text AS data, metadata::text AS metadata,
              ${OCCURRED_AT_TEXT} AS occurred_at, prev_hash, hash
         FROM aol_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
      [after, last, pageSize],
    );
    if (rows.length === 0) return;
    after = rows[rows.length - 1].seq;
    yield rows;
  }
}

/** Write a file (then fsync and rename), streaming `chunks`; returns its SHA-256 and size. */
async function writeSegment(
  path: string,
  chunks: AsyncIterable<string>,
): Promise<{ sha256: string; bytes: number }> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'wx');
  const h = createHash('sha256');
  let bytes = 0;
  try {
    for await (const c of chunks) {
      const b = Buffer.from(c, 'utf8');
      h.update(b);
      bytes += b.length;
      await fh.write(b);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return { sha256: h.digest('hex'), bytes };
}

export type ArchiveResult = Readonly<{
  plan: ArchivePlan;
  manifest?: Manifest;
  manifestFile?: string;
  manifestSha256?: string;
  event?: StoredEvent;
}>;

/**
 * Archive the partitions `plan` chose into `outDir`: one segment per
 * partition, then the signed manifest, then (one transaction) the
 * LogSegmentArchived record and the drop. The files are complete and synced
 * before anything leaves the database; if the record is refused, nothing does.
 */
export async function archive(
  db: Db,
  plan: ArchivePlan,
  outDir: string,
  key: KeyObject,
  reason: string | undefined,
  onProgress?: (done: number, total: number) => void,
): Promise<ArchiveResult> {
  if (!plan.range) return { plan };
  // One archive at a time per database: a second one would write files of the same names.
  const client = await db.pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      ARCHIVE_LOCK,
    ]);
    if (!rows[0].ok)
      throw new Error(
        'another aol events archive is running on this database: nothing was archived',
      );
    try {
      return await archiveLocked(client, plan, outDir, key, reason, onProgress);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ARCHIVE_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** The session lock `aol events archive` holds while it runs. */
export const ARCHIVE_LOCK = 7310020;

async function archiveLocked(
  db: Queryable,
  plan: ArchivePlan,
  outDir: string,
  key: KeyObject,
  reason: string | undefined,
  onProgress?: (done: number, total: number) => void,
): Promise<ArchiveResult> {
  const [first, last] = plan.range!;
  mkdirSync(outDir, { recursive: true });
  const mName = manifestName(first, last);
  const names = [
    mName,
    ...plan.partitions.map((p) => segmentName(Math.max(p.first_seq, first), p.end_seq - 1)),
  ];
  const taken = names.find((n) => existsSync(join(outDir, n)));
  if (taken) throw new Error(`${join(outDir, taken)} exists already: nothing was archived`);
  const files: SegmentFile[] = [];
  let firstPrev = '';
  let lastHash = '';
  let done = 0;
  const total = last - first + 1;
  for (const p of plan.partitions) {
    const from = Math.max(p.first_seq, first);
    const to = p.end_seq - 1;
    let count = 0;
    async function* lines(): AsyncGenerator<string> {
      for await (const page of archivedRows(db, from, to)) {
        if (!firstPrev) firstPrev = page[0].prev_hash;
        lastHash = page[page.length - 1].hash;
        count += page.length;
        done += page.length;
        onProgress?.(done, total);
        yield page.map((r) => JSON.stringify(r)).join('\n') + '\n';
      }
    }
    const name = segmentName(from, to);
    const { sha256, bytes } = await writeSegment(join(outDir, name), lines());
    if (count !== to - from + 1)
      throw new Error(`partition ${p.partition} held ${count} events, not ${to - from + 1}`);
    files.push({ name, first_seq: from, last_seq: to, count, bytes, sha256 });
  }
  const body = {
    format: MANIFEST_FORMAT,
    first_seq: first,
    last_seq: last,
    count: total,
    first_prev_hash: firstPrev,
    last_hash: lastHash,
    created_at: new Date().toISOString(),
    key_id: keyId(key),
    files,
  };
  const manifest: Manifest = { ...body, signature: signManifest(key, canonicalManifest(body)) };
  const text = JSON.stringify(manifest, null, 2) + '\n';
  const manifestSha256 = createHash('sha256').update(text, 'utf8').digest('hex');
  const target = join(outDir, mName);
  await writeSegment(
    target,
    (async function* () {
      yield text;
    })(),
  );
  const record: ArchiveRecord = {
    first_seq: first,
    last_seq: last,
    count: total,
    first_prev_hash: firstPrev,
    last_hash: lastHash,
    manifest: mName,
    manifest_sha256: manifestSha256,
    files: files.length,
    key_id: manifest.key_id,
  };
  const written = [...files.map((f) => join(outDir, f.name)), target];
  try {
    const { rows } = await db.query<StoredEvent & { occurred_at: Date }>(
      `SELECT * FROM aol_archive_segment($1::jsonb, $2, 'cli')`,
      [JSON.stringify(record), reason ?? null],
    );
    const e = rows[0];
    return {
      plan,
      manifest,
      manifestFile: target,
      manifestSha256,
      event: { ...e, occurred_at: new Date(e.occurred_at).toISOString() },
    };
  } catch (err) {
    // nothing left the database: the files would be an archive of live events
    await Promise.all(written.map((f) => unlink(f).catch(() => undefined)));
    throw mapDbError(err);
  }
}

/** Every LogSegmentArchived record in the live log, oldest first. */
export async function archiveRecords(
  db: Queryable,
): Promise<(ArchiveRecord & { event_seq: number })[]> {
  const { rows } = await db.query<{ event_seq: number; data: ArchiveRecord }>(
    `SELECT seq AS event_seq, data FROM aol_events WHERE type = $1 ORDER BY seq`,
    [ARCHIVE_TYPE],
  );
  return rows.map((r) => ({ ...r.data, event_seq: r.event_seq }));
}

export class ArchiveFormatError extends Error {
  /** The first seq a malformed manifest covers (from its file name); undefined for the directory itself. */
  constructor(
    message: string,
    readonly seq?: number,
  ) {
    super(message);
  }
}

function parseManifest(text: string, name: string): Manifest {
  const seq = Number(/^manifest-(\d{12})-/.exec(name)?.[1]);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ArchiveFormatError(
      `archive manifest ${name} is not JSON (${(err as Error).message})`,
      seq,
    );
  }
  const int = (k: string) => Number.isSafeInteger(o[k]);
  const str = (k: string) => typeof o[k] === 'string';
  if (
    !o ||
    o.format !== MANIFEST_FORMAT ||
    !['first_seq', 'last_seq', 'count'].every(int) ||
    !['first_prev_hash', 'last_hash', 'created_at', 'key_id', 'signature'].every(str) ||
    !Array.isArray(o.files) ||
    !o.files.every(
      (f: Record<string, unknown>) =>
        f &&
        typeof f.name === 'string' &&
        /^events-\d{12}-\d{12}\.ndjson$/.test(f.name) &&
        typeof f.sha256 === 'string' &&
        [f.first_seq, f.last_seq, f.count, f.bytes].every((x) => Number.isSafeInteger(x)),
    )
  )
    throw new ArchiveFormatError(
      `archive manifest ${name} is not an ${MANIFEST_FORMAT} manifest`,
      seq,
    );
  return o as unknown as Manifest;
}

/** The manifests in an archive directory, oldest first, with the SHA-256 of each file's bytes. */
export function readManifests(dir: string): { name: string; manifest: Manifest; sha256: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^manifest-\d{12}-\d{12}\.json$/.test(n));
  } catch (err) {
    throw new ArchiveFormatError(`--archive ${dir}: ${(err as Error).message}`);
  }
  if (names.length === 0)
    throw new ArchiveFormatError(`--archive ${dir}: no manifest-*.json in it`);
  return names
    .map((name) => {
      const bytes = readFileSync(join(dir, name));
      return {
        name,
        manifest: parseManifest(bytes.toString('utf8'), name),
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    })
    .sort((a, b) => a.manifest.first_seq - b.manifest.first_seq);
}

/** The lines of one segment file, in pages (constant memory). */
async function* segmentLines(path: string, pageSize = 5000): AsyncGenerator<ArchivedLine[]> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let page: ArchivedLine[] = [];
  for await (const line of rl) {
    if (line === '') continue;
    page.push(JSON.parse(line) as ArchivedLine);
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The archived events up to `untilSeq`, oldest first, read from the segment
 * files: an event source for a fold (replay, snapshots). It does not verify
 * (aol events verify --archive does); it stops at the first gap.
 */
export async function* archivedEvents(
  dir: string,
  untilSeq = Number.MAX_SAFE_INTEGER,
): AsyncGenerator<StoredEvent[]> {
  let next = 1;
  for (const { manifest } of readManifests(dir)) {
    for (const f of manifest.files) {
      if (f.first_seq > untilSeq) return;
      for await (const page of segmentLines(join(dir, f.name))) {
        const out: StoredEvent[] = [];
        for (const l of page) {
          if (l.seq > untilSeq) break;
          if (l.seq !== next)
            throw new ArchiveFormatError(`${f.name}: event ${next} is missing (found ${l.seq})`);
          out.push(toStored(l));
          next++;
        }
        if (out.length) yield out;
        if (next > untilSeq) return;
      }
    }
  }
}

/**
 * The whole log up to `untilSeq` as one event source: the archived events
 * from the segment files, then the live ones after them. What a fold that
 * must start at seq 1 (replay, a snapshot) reads once the prefix is archived.
 */
export async function* archiveThenLive(
  dir: string,
  store: EventStore,
  untilSeq: number,
  after = 0,
): AsyncGenerator<StoredEvent[]> {
  let last = 0;
  for await (const page of archivedEvents(dir, untilSeq)) {
    last = page[page.length - 1].seq;
    if (last <= after) continue;
    yield page.filter((e) => e.seq > after);
  }
  if (last >= untilSeq) return;
  const firstLive = await store.firstSeq();
  if (firstLive > last + 1 && firstLive > after + 1)
    throw new ArchiveFormatError(
      `the archive ${dir} ends at seq ${last}, the live log starts at ${firstLive}: events ${last + 1}..${firstLive - 1} are in neither`,
    );
  yield* store.readAll(Math.max(last, after), untilSeq);
}

/**
 * The archive directory, then the live table, as what a fold reads
 * (the EventSource of src/history/replay.ts, stated here structurally:
 * src/events imports nothing from the areas).
 */
export function archiveSource(
  dir: string,
  store: EventStore,
  db: Queryable,
): {
  pages(after: number, until: number): AsyncIterable<readonly StoredEvent[]>;
  lastTypes(streams: readonly string[], seq: number): Promise<ReadonlyMap<string, string>>;
} {
  return {
    pages: (after, until) => archiveThenLive(dir, store, until, after),
    async lastTypes(streams, seq) {
      const wanted = new Set(streams);
      const out = new Map<string, string>();
      for await (const page of archivedEvents(dir, seq))
        for (const e of page) if (wanted.has(e.stream)) out.set(e.stream, e.type);
      const { rows } = await db.query<{ stream: string; type: string }>(
        `SELECT DISTINCT ON (stream) stream, type FROM aol_events
          WHERE stream = ANY($1::text[]) AND seq <= $2 ORDER BY stream, seq DESC`,
        [streams, seq],
      );
      for (const r of rows) out.set(r.stream, r.type);
      return out;
    },
  };
}

/** The last archived seq of the directory (its manifests' highest last_seq). */
export function archiveEnd(dir: string): number {
  return Math.max(0, ...readManifests(dir).map((m) => m.manifest.last_seq));
}

export type ArchiveVerifyResult = Readonly<{
  ok: boolean;
  checked: number;
  first_bad_seq: number | null;
  problem?: string;
  /** Where the archive's chain ends: the live log's first prev_hash must be this hash. */
  end: ChainStart;
  manifests: readonly { name: string; sha256: string; first_seq: number; last_seq: number }[];
  /** LogSegmentArchived records found inside the archive (earlier archives' records, archived later). */
  records: readonly ArchiveRecord[];
  unchecked: string[];
}>;

/**
 * Verify an archive directory as the head of one chain from seq 1: each
 * manifest's signature, each segment's SHA-256 and range, each event's hash
 * and link, and the link from one manifest to the next. The first problem
 * names the seq: an altered event's own (found by walking the file whose
 * SHA-256 no longer matches), an altered manifest's first seq. `wanted`
 * collects the hash and time at those seqs (the checkpoints that sign
 * archived events).
 */
export async function verifyArchive(
  dir: string,
  key: KeyObject | undefined,
  wanted: ReadonlySet<number>,
  heads: Map<number, { hash: string; occurred_at: string }>,
  onProgress?: (checked: number) => void,
): Promise<ArchiveVerifyResult> {
  let manifests: ReturnType<typeof readManifests>;
  try {
    manifests = readManifests(dir);
  } catch (err) {
    if (!(err instanceof ArchiveFormatError) || err.seq === undefined) throw err;
    return {
      ok: false,
      checked: 0,
      first_bad_seq: err.seq,
      problem: err.message,
      end: { seq: 0, hash: GENESIS_HASH },
      manifests: [],
      records: [],
      unchecked: [],
    };
  }
  const unchecked: string[] = [];
  const records: ArchiveRecord[] = [];
  let at: ChainStart = { seq: 0, hash: GENESIS_HASH };
  let checked = 0;
  const summary = manifests.map((m) => ({
    name: m.name,
    sha256: m.sha256,
    first_seq: m.manifest.first_seq,
    last_seq: m.manifest.last_seq,
  }));
  const fail = (seq: number, problem: string): ArchiveVerifyResult => ({
    ok: false,
    checked,
    first_bad_seq: seq,
    problem,
    end: at,
    manifests: summary,
    records,
    unchecked,
  });
  if (!key)
    unchecked.push(
      'no public key: the archive manifests’ signatures were not checked (their SHA-256 is still compared with the LogSegmentArchived records)',
    );
  for (const { name, manifest: m } of manifests) {
    if (key && !verifyManifest(key, canonicalManifest(m), m.signature))
      return fail(
        m.first_seq,
        `archive manifest ${name} has a bad signature${m.key_id !== keyId(key) ? ` (it names key ${m.key_id}; the given key is ${keyId(key)})` : ''}: it was altered or not signed with this key`,
      );
    if (m.first_seq !== at.seq + 1)
      return fail(
        at.seq + 1,
        `events ${at.seq + 1}..${m.first_seq - 1} are not in the archive ${dir}`,
      );
    if (m.first_prev_hash !== at.hash)
      return fail(m.first_seq, `archive manifest ${name} does not follow the events before it`);
    let fileStart = m.first_seq;
    for (const f of m.files) {
      const path = join(dir, f.name);
      if (!existsSync(path)) return fail(f.first_seq, `segment ${f.name} of ${name} is missing`);
      if (f.first_seq !== fileStart)
        return fail(fileStart, `archive manifest ${name} leaves out events from ${fileStart}`);
      const shaOk = (await fileSha256(path)) === f.sha256;
      let lastLine: ArchivedLine | undefined;
      async function* links(): AsyncGenerator<ChainLink[]> {
        for await (const page of segmentLines(path)) {
          for (const l of page) {
            if (wanted.has(l.seq)) heads.set(l.seq, { hash: l.hash, occurred_at: l.occurred_at });
            if (l.type === ARCHIVE_TYPE) records.push(JSON.parse(l.data) as ArchiveRecord);
          }
          lastLine = page[page.length - 1];
          yield page.map((l) => ({
            seq: l.seq,
            prev_hash: l.prev_hash,
            hash: l.hash,
            content: lineContent(l),
          }));
        }
      }
      let walk;
      try {
        walk = await walkChain(links(), at, (n) => onProgress?.(checked + n));
      } catch (err) {
        return fail(
          at.seq + 1,
          `segment ${f.name} is unreadable after seq ${at.seq}: ${(err as Error).message}`,
        );
      }
      checked += walk.checked;
      if (!walk.ok)
        return fail(
          walk.first_bad_seq!,
          `archived segment ${f.name}: ${walk.problem}${shaOk ? '' : ' (its SHA-256 no longer matches the manifest)'}`,
        );
      at = walk.last;
      if (!shaOk)
        return fail(
          f.first_seq,
          `archived segment ${f.name} was altered: its SHA-256 no longer matches the manifest`,
        );
      if (!lastLine || at.seq !== f.last_seq || walk.checked !== f.count)
        return fail(
          at.seq + 1,
          `segment ${f.name} should hold events ${f.first_seq}..${f.last_seq}`,
        );
      fileStart = f.last_seq + 1;
    }
    if (
      at.seq !== m.last_seq ||
      at.hash !== m.last_hash ||
      m.count !== m.last_seq - m.first_seq + 1
    )
      return fail(
        Math.min(at.seq + 1, m.last_seq),
        `archive manifest ${name} does not match its segments`,
      );
  }
  return {
    ok: true,
    checked,
    first_bad_seq: null,
    end: at,
    manifests: summary,
    records,
    unchecked,
  };
}
