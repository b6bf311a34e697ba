import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { startApiProcess, Proc } from './support/processes.js';

type Json = Record<string, unknown>;

/**
 * The API takes a snapshot every AOL_SNAPSHOT_EVERY_EVENTS events by itself;
 * /state?at= and /health/aol?at= fold from the nearest one, and answer the
 * same once every snapshot is tampered with (then they fold from seq 1).
 */
describe('periodic snapshots in the API (spawned `node dist/main.js`)', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  const get = async (path: string): Promise<Json> => {
    const r = await fetch(`${api.url}${path}`);
    expect(r.status).toBe(200);
    return (await r.json()) as Json;
  };

  beforeAll(async () => {
    t = await createTestDb('history');
    api = await startApiProcess(t.url, {
      AOL_SNAPSHOT_EVERY_EVENTS: '10',
      AOL_REPLAY_RATE_PER_MINUTE: '100000',
    });
  });
  afterAll(async () => {
    await api?.stop();
    await t.db.close();
  });

  it('snapshots every 10 events; answers at points equal those of a full fold', async () => {
    for (let i = 0; i < 45; i++)
      await t.db.query('UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1');
    const snaps = await waitFor(
      async () => {
        const { rows } = await t.db.query<{ seq: number }>(
          'SELECT seq FROM aol_snapshots ORDER BY seq',
        );
        return rows.length >= 4 ? rows.map((r) => r.seq) : null;
      },
      60_000,
      'four snapshots',
    );
    expect(snaps.slice(0, 4)).toEqual([10, 20, 30, 40]);
    const points = [3, 10, 11, 25, 39, 44];
    const before = [];
    for (const p of points)
      before.push([await get(`/state?at=${p}`), await get(`/health/aol?at=${p}`)]);
    expect(before[2][0]).toMatchObject({ at_seq: 11 });
    // a superuser spoils every snapshot: each is refused, the answers stay the same
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    await c.query(`SET session_replication_role = replica;
      UPDATE aol_snapshots SET state = convert_to((convert_from(state, 'UTF8')::jsonb || '{"counts": {}}')::text, 'UTF8')`);
    await c.end();
    const after = [];
    for (const p of points)
      after.push([await get(`/state?at=${p}`), await get(`/health/aol?at=${p}`)]);
    expect(after).toEqual(before);
    expect(api.output()).toMatch(
      /snapshot of seq 40 not used: its state does not match the sha256 its SnapshotTaken event recorded/,
    );
  }, 90_000);
});
