import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Db } from '../src/db/db.js';
import { migrate } from '../src/db/migrator.js';
import { EmbeddedDb, startEmbeddedPostgres } from '../src/db/embedded.js';
import { EventStore } from '../src/events/event-store.js';
import { followersCaughtUp, restartDrill } from '../tools/chaos/restart-drill.js';
import { waitFor } from './support/db.js';
import { startApiProcess, startWorker, WorkerProc, Proc } from './support/processes.js';

/**
 * Database faults never kill a process: PostgreSQL (a cluster of this test's
 * own, without fsync shortcuts) is restarted three times under concurrent
 * writes, reads and SSE clients. Before the fix the API died at the first
 * restart with an unhandled 'error' event (57P01) from Db.tx's client.
 */
describe('PostgreSQL restarts under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aol-faults-'));
  let pg: EmbeddedDb;
  let url: string;
  let db: Db;
  let worker: WorkerProc;
  let api: Proc & { url: string };

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    pg = await startEmbeddedPostgres(dir);
    url = pg.url('postgres');
    db = new Db(url, { max: 2 });
    await migrate(db);
  }, 120000);
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.stop('SIGKILL');
    await db.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
  });

  it('API, worker and SSE relays survive and recover; every acknowledged write is in the log, gap-free, verified', async () => {
    worker = startWorker(url, {
      AOL_LEASE_TTL_SECONDS: '3',
      AOL_MAX_ACTIONS_PER_TICK: '50',
      AOL_CLAIM_BATCH_SIZE: '10',
    });
    api = await startApiProcess(url, { AOL_DB_POOL_TIMEOUT_SECONDS: '2' });
    const alive = () => api.child.exitCode === null && worker.child.exitCode === null;
    let outage503 = 0;
    const report = await restartDrill({
      apiUrl: api.url,
      writers: 6,
      readers: 4,
      sseClients: 4,
      restarts: 3,
      settleMs: 2000,
      alive,
      restartDatabase: async () => {
        await pg.stop();
        // While it is down: GET /control is a 503 with Retry-After, not a 500.
        const r = await fetch(`${api.url}/control`).catch((err: Error) => {
          throw new Error(`API unreachable: ${err.message}\n${api.output().slice(-8000)}`);
        });
        if (r.status === 503 && r.headers.get('retry-after')) outage503++;
        pg = await startEmbeddedPostgres(dir, { port: pg.port });
      },
    });
    expect({ died: report.died, api: api.output().match(/Unhandled|uncaught/i) }).toEqual({
      died: false,
      api: null,
    });
    expect(alive()).toBe(true);
    expect(outage503).toBe(3);
    // Only acknowledgements and "retry later" (and 404-free reads): never a 500.
    expect(Object.keys(report.statuses).sort()).toEqual(
      expect.arrayContaining(['200', '201', '503']),
    );
    expect(Object.keys(report.statuses).filter((s) => !['200', '201', '503'].includes(s))).toEqual(
      [],
    );
    expect(report.noRetryAfter).toBe(0);
    expect(report.noAnswer).toBe(0);
    // The drill itself fails unless writes are acknowledged again after each restart.
    expect(report.acked.length).toBeGreaterThan(10);

    const { rows } = await db.query<{ key: string }>(
      `SELECT data->>'idempotency_key' AS key FROM aol_events WHERE type = 'ActionEnqueued'`,
    );
    const logged = new Set(rows.map((r) => r.key));
    expect(report.acked.filter((k) => !logged.has(k))).toEqual([]);
    const gap = await db.query<{ n: number; max: number }>(
      'SELECT count(*)::int AS n, max(seq) AS max FROM aol_events',
    );
    expect(gap.rows[0].n).toBe(gap.rows[0].max);
    expect((await new EventStore(db).verify()).ok).toBe(true);

    // The relays resumed by themselves: each client has every event, in order, once.
    const caughtUp = await followersCaughtUp(report.followers, gap.rows[0].max, 60000);
    for (const f of report.followers) f.stop();
    expect(caughtUp).toBeNull();

    // The worker is back at work: everything acknowledged gets done.
    const notDone = async () =>
      (
        await db.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM aol_actions WHERE status <> 'SUCCESS' GROUP BY status`,
        )
      ).rows;
    await waitFor(async () => (await notDone()).length === 0, 90000, 'every action done').catch(
      async (err: Error) => {
        // what was left, and what the worker said, for a failure that could not be reproduced
        const lease = (await db.query('SELECT * FROM aol_lease')).rows;
        throw new Error(
          `${err.message}\nnot done: ${JSON.stringify(await notDone())}\nlease: ${JSON.stringify(lease)}\nworker output (end):\n${worker.output().slice(-4000)}`,
        );
      },
    );
    expect(alive()).toBe(true);
  }, 300000);
});
