import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb } from './support/db.js';
import { runCli, startApiProcess, startWorker, Proc } from './support/processes.js';
import { events } from './support/queries.js';

const T = {
  a: 'admin-a-token-0123456789',
  b: 'admin-b-token-0123456789',
  op: 'operator-token-0123456789',
};

describe('production four-eyes: turning proof mode off needs two different admins', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  const put = (enabled: boolean, token: string) =>
    fetch(`${api.url}/control/proof-mode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ enabled, reason: 'campaign launch' }),
    });
  const approve = (id: string, token: string) =>
    fetch(`${api.url}/control/proof-mode/approve/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
  const control = async () =>
    (await fetch(`${api.url}/control`, { headers: { authorization: `Bearer ${T.op}` } }).then((r) =>
      r.json(),
    )) as Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestDb('four_eyes');
    api = await startApiProcess(t.url, {
      NODE_ENV: 'production',
      AOL_API_TOKENS: `alice:admin:${T.a},bob:admin:${T.b},otto:operator:${T.op}`,
    });
  });
  afterAll(async () => {
    await api.stop();
    await t.db.close();
  });

  it('the requester cannot approve; a second admin can; the events name both', async () => {
    const r = await put(false, T.a);
    expect(r.status).toBe(202);
    const req = (await r.json()) as { request_id: string; expires_at: string; proof_mode: boolean };
    expect(req.proof_mode).toBe(true);
    expect(new Date(req.expires_at).getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
    expect((await control()).pending_request).toMatchObject({
      request_id: req.request_id,
      requested_by: 'alice',
      reason: 'campaign launch',
    });
    // asking again returns the same pending request
    expect(((await (await put(false, T.a)).json()) as { request_id: string }).request_id).toBe(
      req.request_id,
    );

    const self = await approve(req.request_id, T.a);
    expect(self.status).toBe(403);
    expect(((await self.json()) as { message: string }).message).toMatch(/four-eyes/);
    expect((await approve(req.request_id, T.op)).status).toBe(403);
    expect((await control()).proof_mode).toBe(true);

    // the worker refuses to run real actions in production until the change is approved
    const early = startWorker(t.url, { NODE_ENV: 'production', AOL_PROOF_MODE: 'false' });
    expect(await early.exited).toBe(1);
    expect(early.output()).toMatch(/refusing to start.*four-eyes/);

    const ok = await approve(req.request_id, T.b);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ proof_mode: false, pending_request: null });
    const tail = await events(
      t.db,
      `type IN ('ProofModeDisableRequested', 'ProofModeDisableApproved', 'ProofModeDisabled')`,
    );
    expect(tail.map((e) => e.type)).toEqual([
      'ProofModeDisableRequested',
      'ProofModeDisableApproved',
      'ProofModeDisabled',
    ]);
    expect(tail[0].metadata).toMatchObject({ actor: 'alice' });
    expect(tail[1]).toMatchObject({
      metadata: { actor: 'bob' },
      data: { request_id: req.request_id, requested_by: 'alice', approved_by: 'bob' },
    });
    expect(tail[2]).toMatchObject({
      metadata: { actor: 'bob' },
      data: { request_id: req.request_id, requested_by: 'alice' },
    });
    expect((await approve(req.request_id, T.b)).status).toBe(409);

    const w = startWorker(t.url, { NODE_ENV: 'production', AOL_PROOF_MODE: 'false' });
    try {
      const { waitFor } = await import('./support/db.js');
      await waitFor(
        () => /lease acquired/.test(w.output()),
        20000,
        'the worker starts after the approved change',
      );
    } finally {
      await w.stop();
    }
  });

  it('proof on is immediate, for an operator too', async () => {
    const r = await put(true, T.op);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ proof_mode: true, changed: true });
  });

  it('an expired request cannot be approved, and its expiry is recorded', async () => {
    const r = (await (await put(false, T.a)).json()) as { request_id: string };
    await t.db.query('UPDATE aol_clock SET offset_seconds = 16 * 60');
    try {
      const late = await approve(r.request_id, T.b);
      expect(late.status).toBe(409);
      expect(((await late.json()) as { message: string }).message).toMatch(/expired/);
      const [expired] = await events(t.db, `type = 'ProofModeDisableExpired'`);
      expect(expired.data).toMatchObject({ request_id: r.request_id, requested_by: 'alice' });
      expect((await control()).proof_mode).toBe(true);
      expect((await control()).pending_request).toBeNull();
    } finally {
      await t.db.query('UPDATE aol_clock SET offset_seconds = 0');
    }
  });

  it('the CLI: aol proof off makes a request, aol proof approve by another actor approves it', async () => {
    const env = { DATABASE_URL: t.url, NODE_ENV: 'production' };
    const req = await runCli(['proof', 'off', '--reason', 'cli launch', '--actor', 'carol'], env);
    expect(req.code).toBe(0);
    const id = /approve request ([0-9a-f-]{36})/.exec(req.stdout)?.[1];
    expect(id).toBeDefined();
    const self = await runCli(['proof', 'approve', id!, '--actor', 'carol'], env);
    expect(self.code).toBe(4);
    expect(self.stderr).toMatch(/four-eyes/);
    const ok = await runCli(['proof', 'approve', id!, '--actor', 'dave'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/proof_mode=false/);
  });
});
