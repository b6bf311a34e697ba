import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { startWorker, WorkerProc } from './support/processes.js';
import { SmtpReceiver, WebhookReceiver } from './support/receivers.js';
import { action, enqueue, events, lease, ticks } from './support/queries.js';

describe('crashes, stalls and the at-most-once guarantee (spawned workers)', () => {
  let t: TestDb;
  let hook: WebhookReceiver;
  let smtp: SmtpReceiver;
  let workers: WorkerProc[] = [];
  const spawnW = (env: Record<string, string> = {}) => {
    const w = startWorker(t.url, { AOL_PROOF_MODE: 'false', SMTP_URL: smtp.url, ...env });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    t = await createTestDb('crash');
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    hook = await new WebhookReceiver().start();
    smtp = await new SmtpReceiver().start();
  });
  afterEach(async () => {
    for (const w of workers) {
      try {
        process.kill(w.pid, 'SIGCONT');
      } catch {
        /* already gone */
      }
    }
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    workers = [];
    await t.db.query('DELETE FROM aol_lease');
    await t.db.query('UPDATE aol_control_flags SET paused = false, killed = false WHERE id = 1');
  });
  afterAll(async () => {
    await hook.stop();
    await smtp.stop();
    await t.db.close();
  });

  it('a worker SIGKILLed in the middle of an email leaves it UNKNOWN: never re-sent', async () => {
    smtp.hold = true;
    const id = await enqueue(
      t.db,
      'SEND_EMAIL',
      { to: 'a@example.com', subject: 'once', text: 'only once' },
      'crash-mail',
    );
    const a = spawnW();
    await waitFor(() => smtp.started.length === 1, 20000, 'SMTP DATA in progress');
    a.child.kill('SIGKILL');
    await a.exited;
    smtp.hold = false;
    const b = spawnW();
    const row = await waitFor(
      async () => {
        const r = await action(t.db, id);
        return r.status === 'UNKNOWN' ? r : null;
      },
      20000,
      'UNKNOWN',
    );
    expect(row.last_error).toMatch(
      /lost its lease during attempt 1.*not re-run: retry or cancel it/,
    );
    // three ticks by b
    const base = (await ticks(t.db)).ticks;
    await waitFor(
      async () => {
        const n = await ticks(t.db);
        return n.worker === b.id() && n.ticks >= base + 3;
      },
      20000,
      'b ticking',
    );
    expect(smtp.started).toHaveLength(1);
    expect(smtp.mails).toHaveLength(0);
    expect((await action(t.db, id)).status).toBe('UNKNOWN');
  });

  it('a worker SIGKILLed in the middle of a webhook: the action is retried with the same Idempotency-Key', async () => {
    let held = true;
    hook.respond = () => (held ? { status: 200, holdMs: 60_000 } : { status: 200 });
    const id = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/crash` }, 'crash-hook');
    const a = spawnW();
    await waitFor(() => hook.byKey('crash-hook').length === 1, 20000, 'request in flight');
    a.child.kill('SIGKILL');
    await a.exited;
    held = false;
    spawnW();
    const row = await waitFor(
      async () => {
        const r = await action(t.db, id);
        return r.status === 'SUCCESS' ? r : null;
      },
      20000,
      'SUCCESS',
    );
    expect(row.attempts).toBe(2);
    const requests = hook.byKey('crash-hook');
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.key))).toEqual(new Set(['crash-hook']));
    expect(hook.effects.get('crash-hook')).toBe(1); // the receiver applied it once
    const recovered = await events(t.db, `stream = $1 AND type = 'ActionRetryScheduled'`, [
      `action:${id}`,
    ]);
    expect(recovered[0].data).toMatchObject({ recovered: true });
  });

  it('SIGSTOP the holder past its TTL while actions flow, then SIGCONT: nothing runs twice and the stale worker commits nothing', async () => {
    hook.respond = () => ({ status: 200, holdMs: 30 });
    const keys = Array.from({ length: 40 }, (_, i) => `stop-${i}`);
    const ids: number[] = [];
    for (const k of keys)
      ids.push(await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/flow`, body: { k } }, k));
    const a = spawnW({ AOL_TICK_INTERVAL_SECONDS: '0.05', AOL_MAX_ACTIONS_PER_TICK: '1' });
    await waitFor(async () => (await lease(t.db))?.owner === a.id(), 20000, 'a holds');
    const b = spawnW({ AOL_TICK_INTERVAL_SECONDS: '0.05', AOL_MAX_ACTIONS_PER_TICK: '1' });
    await waitFor(() => b.output().includes('started'), 20000, 'b up');
    await waitFor(() => hook.requests.length >= 5, 20000, 'actions flowing');
    process.kill(a.pid, 'SIGSTOP');
    const stoppedEpoch = (await lease(t.db))!.epoch;
    await waitFor(async () => (await lease(t.db))?.owner === b.id(), 20000, 'b takes over');
    const takeover = (await events(t.db, `type = 'LeaseAcquired'`)).at(-1)!;
    process.kill(a.pid, 'SIGCONT');
    await waitFor(
      async () => {
        const { rows } = await t.db.query(
          `SELECT count(*)::int AS n FROM aol_actions WHERE id = ANY($1) AND status IN ('SUCCESS', 'UNKNOWN', 'DLQ', 'FAILED')`,
          [ids],
        );
        return rows[0].n === keys.length;
      },
      60000,
      'all actions done',
    );
    await waitFor(() => /lost/.test(a.output()), 10000, 'a notices');
    const final = (
      await t.db.query(
        'SELECT idempotency_key, status, attempts, last_error FROM aol_actions WHERE id = ANY($1)',
        [ids],
      )
    ).rows;
    for (const k of keys)
      expect([k, hook.effects.get(k), final.find((r) => r.idempotency_key === k)]).toEqual([
        k,
        1,
        expect.objectContaining({ status: 'SUCCESS' }),
      ]);
    // A request repeated at the receiver is only ever the recovery of an attempt the stalled worker
    // had in flight, sent again with the same Idempotency-Key (deduplicated there), never a plain re-run.
    for (const [k] of hook.repeats) {
      const id = ids[keys.indexOf(k)];
      const recovered = await events(
        t.db,
        `stream = $1 AND type = 'ActionRetryScheduled' AND data->>'recovered' = 'true'`,
        [`action:${id}`],
      );
      expect([k, recovered.length]).toEqual([k, 1]);
    }
    expect([...hook.repeats.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
    // after the takeover, the stale worker's only writes are the records of its rejected attempts
    const stale = await events(t.db, `seq > $1 AND metadata->>'actor' = $2`, [
      takeover.seq,
      a.id(),
    ]);
    expect(
      stale.every((e) => e.type === 'FencedWriteRejected' && e.data.epoch === stoppedEpoch),
    ).toBe(true);
    const starts = await events(t.db, `type = 'ActionStarted' AND seq > $1`, [takeover.seq]);
    expect(starts.every((e) => e.data.epoch !== stoppedEpoch)).toBe(true);
  });

  it('pause during a long action lets it finish and starts no other; PAUSED ticks keep coming with the lease kept', async () => {
    hook.respond = (req) => (req.url === '/long' ? { status: 200, holdMs: 1500 } : { status: 200 });
    const long = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/long` }, 'long-1');
    const next = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/next` }, 'long-2');
    const a = spawnW({ AOL_MAX_ACTIONS_PER_TICK: '5' });
    await waitFor(() => hook.byKey('long-1').length === 1, 20000, 'long action running');
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    await waitFor(
      async () => (await action(t.db, long)).status === 'SUCCESS',
      20000,
      'long finishes',
    );
    // a PAUSED tick is recorded, and more keep coming (one ledger row per tick)
    await waitFor(
      async () =>
        (
          await events(
            t.db,
            `type = 'TickRecorded' AND data->>'status' = 'PAUSED' AND data->>'worker' = $1`,
            [a.id()],
          )
        ).length >= 1,
      20000,
      'a PAUSED tick',
    );
    const paused = await ticks(t.db);
    await waitFor(
      async () => {
        const { rows } = await t.db.query(
          `SELECT status, worker FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1`,
        );
        return (
          rows[0].status === 'PAUSED' &&
          rows[0].worker === a.id() &&
          (await ticks(t.db)).ticks >= paused.ticks + 2
        );
      },
      20000,
      'PAUSED ticks',
    );
    expect((await action(t.db, next)).status).toBe('PENDING');
    expect(hook.byKey('long-2')).toHaveLength(0);
    expect((await lease(t.db))?.owner).toBe(a.id());
    await t.db.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
    await waitFor(async () => (await action(t.db, next)).status === 'SUCCESS', 20000, 'resumed');
  });
});
