import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Db } from '../src/db/db.js';
import { migrate } from '../src/db/migrator.js';
import { EmbeddedDb, startEmbeddedPostgres } from '../src/db/embedded.js';
import { waitFor } from './support/db.js';
import { startApiProcess, startWorker, WorkerProc, Proc } from './support/processes.js';
import { events, lease } from './support/queries.js';

/**
 * This test restarts its database server, so it runs its own embedded
 * PostgreSQL rather than the shared one the other test files use.
 */
describe('database restart while the worker runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aol-restart-'));
  let pg: EmbeddedDb;
  let url: string;
  let db: Db;
  let worker: WorkerProc;
  let api: Proc & { url: string };

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    pg = await startEmbeddedPostgres(dir, { fast: true });
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

  it('recovers by itself, misses no control event issued after the restart, and /health is 503 meanwhile', async () => {
    worker = startWorker(url, { AOL_LEASE_TTL_SECONDS: '3' });
    api = await startApiProcess(url);
    await waitFor(async () => (await lease(db))?.owner === worker.id(), 20000, 'worker active');
    const ticksBefore = (await events(db, `type = 'TickRecorded'`)).length;

    await pg.stop();
    await waitFor(
      async () => (await fetch(`${api.url}/health`)).status === 503,
      20000,
      '/health 503',
    );
    await waitFor(
      () => /lost|cannot reach|renewal failed/.test(worker.output()),
      20000,
      'worker notices',
    );
    expect(worker.child.exitCode).toBeNull();

    pg = await startEmbeddedPostgres(dir, { fast: true, port: pg.port });
    await waitFor(
      async () => (await fetch(`${api.url}/health`)).status === 200,
      30000,
      '/health 200 again',
    );
    await db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    const { rows } = await db.query<{ version: number }>('SELECT version FROM aol_control_flags');
    await waitFor(
      async () =>
        (
          await events(
            db,
            `type = 'ControlAcknowledged' AND (data->>'control_version')::int = $1`,
            [rows[0].version],
          )
        ).length === 1,
      30000,
      'pause acknowledged after the restart',
    );
    await waitFor(
      async () =>
        (await events(db, `type = 'TickRecorded' AND data->>'status' = 'PAUSED'`)).length > 0,
      30000,
      'PAUSED ticks',
    );
    expect((await events(db, `type = 'TickRecorded'`)).length).toBeGreaterThan(ticksBefore);
    expect(worker.child.exitCode).toBeNull();
  }, 120000);
});
