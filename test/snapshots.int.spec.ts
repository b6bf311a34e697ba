import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { EventStore } from '../src/events/event-store.js';
import type { NewEvent, StoredEvent } from '../src/events/event.types.js';
import { Replayer } from '../src/history/replay.js';
import {
  nearestSnapshot,
  recordSnapshot,
  replayerAt,
  Snapshotter,
  takeSnapshot,
} from '../src/history/snapshots.js';
import { appendAlone, createTestDb, TestDb } from './support/db.js';
import { createLoginRole, liveAndFolded, LoginRole } from './support/roles.js';

const meta = { actor: 'test', via: 'worker' as const };
const quiet = (): void => undefined;

/** mulberry32: the same seed makes the same log. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type ActionLife = { id: number; status: string; attempt: number };

/**
 * Appends `n` events of a varied mix, each valid for the projections: control
 * flags and acknowledgements, scoped pauses, leases (acquire, renew, release,
 * expire), ticks, actions through every status (with proof artifacts), and
 * proof mode on and off.
 */
async function grow(t: TestDb, rand: () => number, n: number, s: GrowState): Promise<void> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  let made = 0;
  while (made < n) {
    const batch: NewEvent[] = [];
    const k = 1 + Math.floor(rand() * 20);
    for (let i = 0; i < k; i++) {
      const r = rand();
      if (r < 0.08) {
        const flag = pick(['paused', 'killed', 'proof'] as const);
        const on = !s.flags[flag];
        s.flags[flag] = on;
        const type =
          flag === 'paused'
            ? on
              ? 'ControlPaused'
              : 'ControlResumed'
            : flag === 'killed'
              ? on
                ? 'ControlKilled'
                : 'ControlRevived'
              : on
                ? 'ProofModeEnabled'
                : 'ProofModeDisabled';
        batch.push({
          stream: 'control',
          event: { type, data: {} } as NewEvent['event'],
          metadata: meta,
        });
      } else if (r < 0.11) {
        s.ackVersion += 1 + Math.floor(rand() * 3);
        batch.push({
          stream: 'control',
          event: {
            type: 'ControlAcknowledged',
            data: {
              control_version: s.ackVersion,
              worker: 'w:1',
              epoch: s.epoch,
              delay_ms: Math.floor(rand() * 900),
            },
          },
          metadata: meta,
        });
      } else if (r < 0.2) {
        if (!s.lease) {
          s.epoch++;
          s.lease = true;
          batch.push({
            stream: 'lease',
            event: {
              type: 'LeaseAcquired',
              data: {
                owner: 'w:1',
                epoch: s.epoch,
                acquired_at: at(made),
                expires_at: at(made + 30_000),
                ttl_seconds: 30,
              },
            },
            metadata: meta,
          });
        } else if (rand() < 0.6) {
          batch.push({
            stream: 'lease',
            event: {
              type: 'LeaseRenewed',
              data: { owner: 'w:1', epoch: s.epoch, expires_at: at(made + 60_000) },
            },
            metadata: meta,
          });
        } else {
          s.lease = false;
          batch.push(
            rand() < 0.5
              ? {
                  stream: 'lease',
                  event: { type: 'LeaseReleased', data: { owner: 'w:1', epoch: s.epoch } },
                  metadata: meta,
                }
              : {
                  stream: 'lease',
                  event: {
                    type: 'LeaseExpired',
                    data: {
                      owner: 'w:1',
                      epoch: s.epoch,
                      expired_at: at(made),
                      detected_by: 'w:2',
                    },
                  },
                  metadata: meta,
                },
          );
        }
      } else if (r < 0.3) {
        batch.push({
          stream: 'tick',
          event: {
            type: 'TickRecorded',
            data: {
              started_at: at(made),
              finished_at: at(made + 5),
              status: pick(['SUCCESS', 'PARTIAL', 'FAIL', 'PAUSED'] as const),
              actions_attempted: made % 4,
              actions_succeeded: made % 3,
              notes: `tick ${made}`,
              worker: 'w:1',
              epoch: s.epoch,
            },
          },
          metadata: meta,
        });
      } else if (r < 0.45 || s.actions.length === 0) {
        const id = s.nextId++;
        s.actions.push({ id, status: 'PENDING', attempt: 0 });
        batch.push({
          stream: `action:${id}`,
          event: {
            type: 'ActionEnqueued',
            data: {
              id,
              idempotency_key: `k-${id}`,
              action_type: 'NOOP',
              payload: { i: id },
              not_before: at(made),
            },
          },
          metadata: meta,
        });
      } else {
        const a = pick(s.actions);
        if (batch.some((b) => b.stream === `action:${a.id}`)) continue;
        const stream = `action:${a.id}`;
        let ev: NewEvent['event'];
        if (a.status === 'PENDING' || a.status === 'RETRY') {
          if (rand() < 0.15) {
            ev = { type: 'ActionCancelled', data: { previous_status: a.status } };
            a.status = 'CANCELLED';
          } else {
            a.attempt++;
            ev = {
              type: 'ActionStarted',
              data: {
                attempt: a.attempt,
                worker: 'w:1',
                epoch: s.epoch,
                proof_mode: s.flags.proof,
              },
            };
            a.status = 'RUNNING';
          }
        } else if (a.status === 'RUNNING') {
          const o = rand();
          if (o < 0.5) {
            ev = {
              type: 'ActionSucceeded',
              data: {
                attempt: a.attempt,
                message: 'ok',
                artifact_ref: `proof/${a.id}.json`,
                artifact_sha256: 'a'.repeat(64),
              },
            };
            a.status = 'SUCCESS';
          } else if (o < 0.7) {
            ev = {
              type: 'ActionRetryScheduled',
              data: { attempt: a.attempt, error: 'boom', retry_at: at(made + 1000) },
            };
            a.status = 'RETRY';
          } else if (o < 0.8) {
            ev = { type: 'ActionFailed', data: { attempt: a.attempt, error: 'bad' } };
            a.status = 'FAILED';
          } else if (o < 0.9) {
            ev = { type: 'ActionDeadLettered', data: { attempt: a.attempt, error: 'dead' } };
            a.status = 'DLQ';
          } else {
            ev = { type: 'ActionOutcomeUnknown', data: { attempt: a.attempt, error: 'timeout' } };
            a.status = 'UNKNOWN';
          }
        } else if (['FAILED', 'DLQ', 'CANCELLED'].includes(a.status)) {
          ev = { type: 'ActionRequeued', data: { previous_status: a.status } };
          a.status = 'PENDING';
        } else continue;
        batch.push({ stream, event: ev, metadata: meta });
      }
    }
    if (batch.length === 0) continue;
    await appendAlone(t.db, batch);
    made += batch.length;
  }
}

type GrowState = {
  flags: { paused: boolean; killed: boolean; proof: boolean };
  ackVersion: number;
  epoch: number;
  lease: boolean;
  nextId: number;
  actions: ActionLife[];
};

async function allEvents(t: TestDb): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  // the whole rows, as the API serves them (not the fold's lean reads)
  for await (const page of new EventStore(t.db).readAll()) out.push(...page);
  return out;
}

async function superuser(t: TestDb, sql: string, values?: unknown[]): Promise<void> {
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  try {
    await c.query(sql, values);
  } finally {
    await c.end();
  }
}

describe('snapshots: state at any point from the nearest snapshot', () => {
  let t: TestDb;
  let events: StoredEvent[];

  beforeAll(async () => {
    t = await createTestDb('snapshots');
    const { rows } = await t.db.query<{ id: number }>("SELECT nextval('aol_action_id_seq') AS id");
    const s: GrowState = {
      flags: { paused: false, killed: false, proof: true },
      ackVersion: 0,
      epoch: 0,
      lease: false,
      nextId: rows[0].id + 1000,
      actions: [],
    };
    await t.db.query("SELECT setval('aol_action_id_seq', $1)", [s.nextId + 100_000]);
    const rand = rng(15);
    const snapshotter = new Snapshotter(t.db, { everyEvents: 97, metadata: meta, log: quiet });
    // SnapshotTaken events land between the others, so folds cross them too
    for (let round = 0; round < 8; round++) {
      await grow(t, rand, 400, s);
      await snapshotter.catchUp();
      if (round % 3 === 1) await takeSnapshot(t.db, await new EventStore(t.db).headSeq(), meta);
    }
    await grow(t, rand, 150, s);
    events = await allEvents(t);
  }, 120_000);
  afterAll(() => t.db.close());

  it('the log holds the mix, and snapshots every 97 events recorded by SnapshotTaken events', async () => {
    const types = new Set(events.map((e) => e.type));
    for (const ty of [
      'ControlPaused',
      'ControlKilled',
      'ProofModeDisabled',
      'ControlAcknowledged',
      'LeaseAcquired',
      'LeaseRenewed',
      'LeaseExpired',
      'TickRecorded',
      'ActionSucceeded',
      'ActionRequeued',
      'ActionDeadLettered',
      'SnapshotTaken',
    ])
      expect(types).toContain(ty);
    const { rows } = await t.db.query<{ seq: number; sha256: string; event_seq: number }>(
      'SELECT seq, sha256, event_seq FROM aol_snapshots ORDER BY seq',
    );
    expect(rows.length).toBeGreaterThan(30);
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    for (const r of rows) {
      const e = bySeq.get(r.event_seq)!;
      expect(e).toMatchObject({
        stream: 'log',
        type: 'SnapshotTaken',
        data: { seq: r.seq, sha256: r.sha256 },
      });
      expect(e.seq).toBeGreaterThan(r.seq);
    }
    expect(rows.filter((r) => r.seq % 97 === 0).length).toBeGreaterThan(30);
    // a rebuild of the read models is untouched by snapshots (the log stream has no projection)
    const { live, folded } = await liveAndFolded(t.db);
    expect(folded).toEqual(live);
  });

  it('state and health inputs from the nearest snapshot equal a full fold, at 1,000 random points', async () => {
    const rand = rng(9162);
    const head = events.length;
    const points = Array.from({ length: 1000 }, () => Math.floor(rand() * (head + 1))).sort(
      (a, b) => a - b,
    );
    // the full fold, incremental: one pass from seq 1, read off at each point
    const full = new Replayer();
    let i = 0;
    let fromSnapshot = 0;
    for (const p of points) {
      while (i < p) full.apply(events[i++]);
      const r = await replayerAt(t.db, p);
      if (r.base > 0) fromSnapshot++;
      expect(r.base).toBeLessThanOrEqual(p);
      expect(r.state()).toEqual(full.state());
      expect(r.healthInputs()).toEqual(full.healthInputs());
    }
    expect(fromSnapshot).toBeGreaterThan(900);
    // and one full fold through the library itself at the head
    expect((await replayerAt(t.db, head, { snapshots: false })).state()).toEqual(full.state());
  }, 120_000);

  it('a snapshot whose state no longer matches its sha256 is never used: the fold falls back', async () => {
    const { rows } = await t.db.query<{ seq: number }>(
      'SELECT seq FROM aol_snapshots ORDER BY seq DESC OFFSET 3 LIMIT 2',
    );
    const [newer, older] = rows.map((r) => r.seq);
    const at = newer + 5;
    const expected = (await replayerAt(t.db, at, { snapshots: false })).state();
    expect((await replayerAt(t.db, at)).base).toBe(newer);
    // a superuser edits the state (the triggers refuse it unless disabled)
    await expect(
      superuser(t, "UPDATE aol_snapshots SET state = convert_to('{}', 'UTF8') WHERE seq = $1", [
        newer,
      ]),
    ).rejects.toThrow(/aol_snapshots is written only by aol_record_snapshot/);
    await superuser(
      t,
      `SET session_replication_role = replica;
       UPDATE aol_snapshots
          SET state = convert_to((convert_from(state, 'UTF8')::jsonb || '{"lease": null}')::text, 'UTF8')
        WHERE seq = ${newer}`,
    );
    const rejected: number[] = [];
    const r = await replayerAt(t.db, at, { onRejected: (s) => rejected.push(s) });
    expect(rejected).toEqual([newer]);
    expect(r.base).toBe(older);
    expect(r.state()).toEqual(expected);
    // recomputing the row's own sha256 does not help: the log's SnapshotTaken event holds the original
    await superuser(
      t,
      `SET session_replication_role = replica;
       UPDATE aol_snapshots SET sha256 = encode(sha256(state), 'hex') WHERE seq = ${newer};
       UPDATE aol_snapshots SET state = convert_to('{"v":1}', 'UTF8'), sha256 = encode(sha256(convert_to('{"v":1}', 'UTF8')), 'hex')
        WHERE seq = ${older};`,
    );
    const rejected2: string[] = [];
    const r2 = await replayerAt(t.db, at, {
      onRejected: (s, why) => rejected2.push(`${s}: ${why}`),
    });
    expect(rejected2).toEqual([
      `${newer}: its state does not match the sha256 its SnapshotTaken event recorded`,
      `${older}: its state does not match the sha256 its SnapshotTaken event recorded`,
    ]);
    expect(r2.base).toBeLessThan(older);
    expect(r2.state()).toEqual(expected);
    // with no usable snapshot left at or before the point: a full fold
    const first = (await t.db.query<{ s: number }>('SELECT min(seq) AS s FROM aol_snapshots'))
      .rows[0].s;
    await superuser(
      t,
      `SET session_replication_role = replica; UPDATE aol_snapshots SET state = convert_to('x', 'UTF8') WHERE seq = ${first}`,
    );
    expect(await nearestSnapshot(t.db, first + 1)).toBeUndefined();
    const r3 = await replayerAt(t.db, first + 1);
    expect(r3.base).toBe(0);
    expect(r3.state()).toEqual((await replayerAt(t.db, first + 1, { snapshots: false })).state());
  });

  it('two processes snapshotting at once leave one snapshot and one SnapshotTaken per seq', async () => {
    const u = await createTestDb('snapshots_race');
    try {
      await appendAlone(
        u.db,
        Array.from({ length: 300 }, (_, i) => ({
          stream: 'tick',
          event: {
            type: 'TickRecorded' as const,
            data: {
              started_at: new Date(i * 1000).toISOString(),
              finished_at: new Date(i * 1000 + 1).toISOString(),
              status: 'SUCCESS' as const,
              actions_attempted: 0,
              actions_succeeded: 0,
              notes: '',
              worker: 'w:1',
              epoch: 1,
            },
          },
          metadata: meta,
        })),
      );
      const a = new Snapshotter(u.db, { everyEvents: 50, metadata: meta, log: quiet });
      const b = new Snapshotter(u.db, { everyEvents: 50, metadata: meta, log: quiet });
      await Promise.all([a.catchUp(), b.catchUp(), a.catchUp()]);
      // and the same seq recorded twice at once, bypassing the lock
      const r = await replayerAt(u.db, 120);
      const both = await Promise.all([
        recordSnapshot(u.db, r, meta),
        recordSnapshot(u.db, r, meta),
      ]);
      expect(both.map((x) => x.event_seq === null).sort()).toEqual([false, true]);
      const { rows } = await u.db.query<{ seq: number; n: number }>(
        `SELECT s.seq, (SELECT count(*)::int FROM aol_events e WHERE e.type = 'SnapshotTaken' AND (e.data->>'seq')::bigint = s.seq) AS n
           FROM aol_snapshots s ORDER BY s.seq`,
      );
      expect(rows.map((x) => x.seq)).toEqual([50, 100, 120, 150, 200, 250, 300]);
      expect(rows.every((x) => x.n === 1)).toBe(true);
      await expect(takeSnapshot(u.db, 10_000, meta)).rejects.toThrow(/no snapshot of seq 10000/);
    } finally {
      await u.db.close();
    }
  });

  describe('as the roles (no superuser)', () => {
    let service: LoginRole;
    let admin: LoginRole;
    let auditor: LoginRole;
    beforeAll(async () => {
      service = await createLoginRole(t, 'snapsvc', ['aol_service']);
      admin = await createLoginRole(t, 'snapadm', ['aol_admin']);
      auditor = await createLoginRole(t, 'snapaud', ['aol_auditor']);
    });
    afterAll(async () => {
      await Promise.all([service.db.close(), admin.db.close(), auditor.db.close()]);
    });

    it('the service records snapshots; nobody inserts, updates or deletes one directly', async () => {
      const head = await new EventStore(service.db).headSeq();
      const taken = await takeSnapshot(service.db, head, { actor: 'api-host:1', via: 'api' });
      expect(taken.event_seq).toBe(head + 1);
      for (const who of [service, admin]) {
        await expect(
          who.db.query(
            "INSERT INTO aol_snapshots (seq, state, sha256, event_seq) VALUES (1, '\\x7b7d', $1, 1)",
            ['b'.repeat(64)],
          ),
        ).rejects.toThrow(/permission denied|aol_snapshots is written only/);
        await expect(who.db.query('UPDATE aol_snapshots SET sha256 = sha256')).rejects.toThrow(
          /permission denied|aol_snapshots is written only/,
        );
        await expect(who.db.query('DELETE FROM aol_snapshots')).rejects.toThrow(
          /permission denied|aol_snapshots is written only/,
        );
        await expect(who.db.query('TRUNCATE aol_snapshots')).rejects.toThrow(
          /permission denied|aol_snapshots is written only/,
        );
      }
      await expect(takeSnapshot(admin.db, head, { actor: 'x', via: 'cli' })).rejects.toThrow(
        /permission denied for function aol_record_snapshot/,
      );
      // an auditor reads (and so replays from) snapshots
      const r = await replayerAt(auditor.db, head + 1);
      expect(r.base).toBe(head);
      expect(r.state()).toEqual((await replayerAt(t.db, head + 1, { snapshots: false })).state());
    });
  });
});
