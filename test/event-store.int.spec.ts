import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { EventStore } from '../src/events/event-store.js';
import { EventNotifier } from '../src/events/event-notifier.js';
import { subscribeEvents } from '../src/events/subscribe.js';
import { NewEvent, StoredEvent } from '../src/events/event.types.js';
import { ConcurrencyError } from '../src/common/errors.js';
import { appendAlone, createTestDb, TestDb, waitFor } from './support/db.js';

const meta = { actor: 'test', via: 'api' as const, reason: 'test' };
const tick = (n: number): NewEvent => ({
  stream: 'tick',
  metadata: meta,
  event: {
    type: 'TickRecorded',
    data: {
      started_at: new Date().toISOString(),
      finished_at: new Date().toISOString(),
      status: 'SUCCESS',
      actions_attempted: n,
      actions_succeeded: n,
      notes: `writer event ${n}`,
      worker: 'test:1',
      epoch: 1,
    },
  },
});

describe('event store (real PostgreSQL)', () => {
  let t: TestDb;
  let store: EventStore;
  let notifier: EventNotifier;

  beforeAll(async () => {
    t = await createTestDb('event_store');
    store = new EventStore(t.db);
    notifier = new EventNotifier(t.url);
    await notifier.start();
  });
  afterAll(async () => {
    await notifier.stop();
    await t.db.close();
  });

  it('8 concurrent writers, 5,000 events: a live subscriber sees each exactly once in seq order, and verify passes', async () => {
    const start = await store.headSeq();
    const total = 5000;
    const seen: StoredEvent[] = [];
    const sub = subscribeEvents(store, notifier, start, {
      stream: 'tick',
      safetyIntervalMs: 60_000,
    }).subscribe((e) => seen.push(e));
    const writers = Array.from({ length: 8 }, async (_, w) => {
      // Mixed single and batched appends, each in its own transaction.
      for (let i = 0; i < total / 8;) {
        const n = Math.min(i % 3 === 0 ? 1 : 5, total / 8 - i);
        await appendAlone(
          t.db,
          Array.from({ length: n }, (_, k) => tick(w * 10000 + i + k)),
        );
        i += n;
      }
    });
    await Promise.all(writers);
    await waitFor(() => seen.length >= total, 60000, 'subscriber to see all events');
    sub.unsubscribe();
    expect(seen).toHaveLength(total);
    const seqs = seen.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(total);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // seq is gapless: the 5,000 events are exactly start+1 .. start+5000
    expect(seqs[0]).toBe(start + 1);
    expect(seqs[total - 1]).toBe(start + total);
    const v = await store.verify();
    expect(v).toMatchObject({ ok: true, first_bad_seq: null });
    expect(v.checked).toBe(start + total);
  });

  it('rejects an append at a stale expected version with a ConcurrencyError, writing nothing', async () => {
    const head = await store.headSeq();
    const { rows } = await t.db.query<{ v: number }>(
      `SELECT max(stream_version) AS v FROM aol_events WHERE stream = 'control'`,
    );
    const current = rows[0].v;
    const ev: NewEvent = {
      stream: 'control',
      event: { type: 'ControlPaused', data: {} },
      metadata: meta,
      expectedVersion: current - 1,
    };
    await expect(appendAlone(t.db, [ev])).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.headSeq()).toBe(head);
    const ok = await appendAlone(t.db, [{ ...ev, expectedVersion: current }]);
    expect(ok[0]).toMatchObject({ stream: 'control', stream_version: current + 1, seq: head + 1 });
  });

  it('a batch is all-or-nothing: a conflict in the middle leaves no event behind', async () => {
    const head = await store.headSeq();
    const good = tick(1);
    const bad: NewEvent = {
      stream: 'control',
      event: { type: 'ControlResumed', data: {} },
      metadata: meta,
      expectedVersion: 0,
    };
    await expect(appendAlone(t.db, [good, bad, good])).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.headSeq()).toBe(head);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of aol_events', async () => {
    await expect(t.db.query(`UPDATE aol_events SET type = 'X' WHERE seq = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.query('DELETE FROM aol_events WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(t.db.query('TRUNCATE aol_events')).rejects.toThrow(/append-only/);
  });

  it('NOTIFY after commit carries only a pointer (stream, seq, type, version), and nothing for a rolled-back append', async () => {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    const got: string[] = [];
    client.on('notification', (n) => got.push(n.payload ?? ''));
    await client.query('LISTEN aol_events');
    await t.db
      .tx(async (c) => {
        await EventStore.append(c, [tick(1)]);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const [e] = await appendAlone(t.db, [tick(2)]);
    await waitFor(() => got.length > 0, 10000, 'notification');
    await client.end();
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0])).toEqual({
      stream: 'tick',
      seq: e.seq,
      type: 'TickRecorded',
      version: e.stream_version,
    });
  });

  it('verify names the first tampered seq (triggers disabled by a superuser)', async () => {
    const t2 = await createTestDb('tamper');
    const s2 = new EventStore(t2.db);
    for (let i = 0; i < 5; i++) await appendAlone(t2.db, [tick(i)]);
    expect((await s2.verify()).ok).toBe(true);
    await t2.db.query('ALTER TABLE aol_events DISABLE TRIGGER aol_events_no_update');
    await t2.db.query(
      `UPDATE aol_events SET data = jsonb_set(data, '{notes}', '"forged"') WHERE seq = 4`,
    );
    await t2.db.query('ALTER TABLE aol_events ENABLE TRIGGER aol_events_no_update');
    expect(await s2.verify()).toMatchObject({ ok: false, first_bad_seq: 4, checked: 3 });
    await t2.db.close();
  });

  it('verify finds a deleted event', async () => {
    const t3 = await createTestDb('tamper_delete');
    const s3 = new EventStore(t3.db);
    for (let i = 0; i < 4; i++) await appendAlone(t3.db, [tick(i)]);
    await t3.db.query('ALTER TABLE aol_events DISABLE TRIGGER aol_events_no_update');
    await t3.db.query('DELETE FROM aol_events WHERE seq = 3');
    expect(await s3.verify()).toMatchObject({ ok: false, first_bad_seq: 3 });
    await t3.db.close();
  });

  it('a notifier that can read the head starts there (lag counts from the head, not from 0)', async () => {
    await appendAlone(t.db, [tick(1), tick(2)]);
    const head = await store.headSeq();
    const blind = new EventNotifier(t.url);
    const seeing = new EventNotifier(t.url, () => store.headSeq());
    try {
      await blind.start();
      await seeing.start();
      expect(blind.lastSeq).toBe(0);
      expect(seeing.lastSeq).toBe(head);
    } finally {
      await blind.stop();
      await seeing.stop();
    }
  });

  it('a subscriber whose LISTEN connection is killed resumes with no event missed or repeated', async () => {
    const own = new EventNotifier(t.url);
    await own.start();
    const statuses: string[] = [];
    own.status$.subscribe((s) => statuses.push(s));
    const from = await store.headSeq();
    const seen: number[] = [];
    // A long safety interval: only NOTIFY and the reconnect catch-up can deliver.
    const sub = subscribeEvents(store, own, from, { safetyIntervalMs: 600_000 }).subscribe((e) =>
      seen.push(e.seq),
    );
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await appendAlone(t.db, [tick(written++)]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await waitFor(() => seen.length >= 20, 20000, 'first events');
    const killed = await t.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    expect(killed.rowCount).toBeGreaterThanOrEqual(1);
    await waitFor(() => statuses.includes('reconnecting'), 20000, 'reconnect');
    await waitFor(
      () => statuses.lastIndexOf('connected') > statuses.indexOf('reconnecting'),
      20000,
      'connected again',
    );
    const target = written + 20;
    await waitFor(() => written >= target, 20000, 'more writes');
    writing = false;
    await writer;
    const head = await store.headSeq();
    await waitFor(() => seen.at(-1) === head, 20000, 'subscriber to catch up');
    sub.unsubscribe();
    await own.stop();
    expect(seen).toEqual(Array.from({ length: head - from }, (_, i) => from + 1 + i));
  });

  it('subscribe replays the backlog before going live', async () => {
    const head = await store.headSeq();
    const first = await firstValueFrom(
      subscribeEvents(store, notifier, head - 3).pipe(
        filter(() => true),
        take(3),
        toArray(),
      ),
    );
    expect(first.map((e) => e.seq)).toEqual([head - 2, head - 1, head]);
  });
});

describe('event store reads: one named statement per filter (real PostgreSQL)', () => {
  let t: TestDb;
  let store: EventStore;
  const heartbeat = (e: StoredEvent) =>
    e.type === 'LeaseRenewed' ||
    (e.type === 'TickRecorded' &&
      ((e.data as { actions_attempted?: number }).actions_attempted ?? 0) === 0);

  beforeAll(async () => {
    t = await createTestDb('event_store_read');
    store = new EventStore(t.db);
    for (let i = 0; i < 30; i++) await appendAlone(t.db, [tick(i % 3)]);
    await t.db.query(`UPDATE aol_control_flags SET paused = true WHERE id = 1`);
    await t.db.query(`UPDATE aol_control_flags SET paused = false WHERE id = 1`);
  });
  afterAll(async () => {
    await t?.db.close();
  });

  it('every combination of after, stream, type, heartbeats and limit returns what a filter of the whole log does', async () => {
    const all = await store.read({ limit: 100000 });
    expect(all.some(heartbeat) && all.some((e) => !heartbeat(e))).toBe(true);
    const mid = all[Math.floor(all.length / 2)].seq;
    for (const after of [0, mid])
      for (const stream of [undefined, 'tick', 'control'])
        for (const type of [undefined, 'TickRecorded', 'ControlPaused'])
          for (const heartbeats of [undefined, 'include', 'exclude', 'only'] as const)
            for (const limit of [3, 1000]) {
              const want = all
                .filter(
                  (e) =>
                    e.seq > after &&
                    (stream === undefined || e.stream === stream) &&
                    (type === undefined || e.type === type) &&
                    (heartbeats === 'only'
                      ? heartbeat(e)
                      : heartbeats === 'exclude'
                        ? !heartbeat(e)
                        : true),
                )
                .slice(0, limit);
              const got = await store.read({ after, stream, type, heartbeats, limit });
              expect([{ after, stream, type, heartbeats, limit }, got]).toEqual([
                { after, stream, type, heartbeats, limit },
                want,
              ]);
            }
  });

  it('a column added to aol_events while the statements are prepared does not break the reads', async () => {
    // Every connection of the pool has the statements prepared by now; a
    // prepared `SELECT *` would fail: "cached plan must not change result type".
    const before = await Promise.all(
      Array.from({ length: 4 }, () => store.read({ stream: 'tick', limit: 1000 })),
    );
    await t.db.query('ALTER TABLE aol_events ADD COLUMN later_column integer');
    try {
      const after = await Promise.all(
        Array.from({ length: 4 }, () => store.read({ stream: 'tick', limit: 1000 })),
      );
      expect(after).toEqual(before);
    } finally {
      await t.db.query('ALTER TABLE aol_events DROP COLUMN later_column');
    }
  });
});
