import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startApiProcess, startWorker, Proc } from './support/processes.js';
import { action, events } from './support/queries.js';
import { createLoginRole, liveAndFolded, LoginRole } from './support/roles.js';

/**
 * The deployment docs/security.md describes: the API and the worker log in as
 * a role granted only aol_service, people run the CLI with their own login
 * roles (aol_operator, aol_admin, aol_auditor). Everything works, and each
 * event names who authenticated.
 */
describe('the API and worker as an aol_service login, people with their own roles', () => {
  let t: TestDb;
  let svc: LoginRole;
  let op: LoginRole;
  let adm: LoginRole;
  let aud: LoginRole;
  let api: Proc & { url: string };
  const token = 'svc-admin-token-0123456789';
  const post = (path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await createTestDb('service_role');
    svc = await createLoginRole(t, 'svc', ['aol_service']);
    op = await createLoginRole(t, 'op', ['aol_operator']);
    adm = await createLoginRole(t, 'adm', ['aol_admin']);
    aud = await createLoginRole(t, 'aud', ['aol_auditor']);
    api = await startApiProcess(svc.url, { AOL_API_TOKENS: `alice:admin:${token}` });
  });
  afterAll(async () => {
    await api.stop();
    for (const r of [svc, op, adm, aud]) await r.db.close();
    await t.db.close();
  });

  it('REST, the worker, the CLI and psql each record their true actor; rebuild equals live', async () => {
    const w = startWorker(svc.url);
    try {
      await waitFor(() => /lease acquired/.test(w.output()), 20000, 'the worker takes the lease');
      const r = await post('/actions', {
        action_type: 'HTTP_WEBHOOK',
        payload: { url: 'http://127.0.0.1:9/never', body: { a: 1 } },
      });
      expect(r.status).toBe(201);
      const { id } = (await r.json()) as { id: number };
      await waitFor(async () => (await action(t.db, id)).status === 'SUCCESS', 20000, 'proof run');
      expect((await post('/control/pause', { reason: 'rest' })).status).toBe(200);
      expect(await events(t.db, `type = 'ControlPaused'`)).toMatchObject([
        { metadata: { actor: 'alice', via: 'api' } },
      ]);

      const resume = await runCli(['resume', '--reason', 'cli', '--actor', 'alice'], {
        DATABASE_URL: op.url,
      });
      expect(resume.code).toBe(0);
      const enq = await runCli(
        ['actions', 'enqueue', '--type', 'NOOP', '--payload', '{}', '--key', 'svc-cli'],
        { DATABASE_URL: op.url },
      );
      expect(enq.code).toBe(0);
      const opRelease = await runCli(['lease', 'release', '--force', '--reason', 'x'], {
        DATABASE_URL: op.url,
      });
      expect(opRelease.code).toBe(4); // the CLI's force release is an admin's
      const release = await runCli(['lease', 'release', '--force', '--reason', 'stuck'], {
        DATABASE_URL: adm.url,
      });
      expect(release.code).toBe(0);
      const audPause = await runCli(['pause', '--reason', 'x'], { DATABASE_URL: aud.url });
      expect(audPause.code).toBe(4);
      expect((await runCli(['health', '--json'], { DATABASE_URL: aud.url })).stdout).toMatch(
        /"flags"/,
      );
      expect((await runCli(['events', 'verify'], { DATABASE_URL: aud.url })).code).toBe(0);

      expect((await events(t.db, `type = 'ControlResumed'`))[0].metadata).toMatchObject({
        actor: op.name,
        via: 'cli',
        label: 'alice',
      });
      expect((await events(t.db, `type = 'ActionEnqueued'`)).at(-1)!.metadata).toMatchObject({
        actor: op.name,
        via: 'cli',
      });
      expect((await events(t.db, `type = 'LeaseForceReleased'`)).at(-1)!.metadata).toMatchObject({
        actor: adm.name,
        via: 'cli',
      });
      const worker = await events(t.db, `type = 'ActionStarted'`);
      expect(worker[0].metadata).toMatchObject({ actor: w.id(), via: 'worker' });
      await waitFor(
        () => events(t.db, `type = 'LeaseAcquired'`).then((e) => e.length >= 2),
        20000,
        'the worker takes the lease again',
      );
    } finally {
      await w.stop();
    }
    expect(w.output()).not.toMatch(/permission denied/);
    expect(api.output()).not.toMatch(/permission denied/);
    const { live, folded } = await liveAndFolded(t.db);
    expect(live).toEqual(folded);
  });
});
