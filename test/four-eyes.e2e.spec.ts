import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { createLoginRole, LoginRole } from './support/roles.js';
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

  it('an expired request cannot be approved, and its expiry is recorded when the window closes', async () => {
    const r = (await (await put(false, T.a)).json()) as { request_id: string };
    // the test clock is refused in a production database (as an admin could
    // move the approval window with it): clear production, as an event, first
    await expect(t.db.query('UPDATE aol_clock SET offset_seconds = 16 * 60')).rejects.toThrow(
      /disabled in production/,
    );
    await t.db.query(`SELECT aol_clear_production('expiry drill', 'sql')`);
    await t.db.query('UPDATE aol_clock SET offset_seconds = 16 * 60');
    try {
      // the API's sweeper records the expiry without anyone asking
      const [expired] = await waitFor(
        () => events(t.db, `type = 'ProofModeDisableExpired'`).then((e) => (e.length ? e : null)),
        15000,
        'the API records the expiry',
      );
      expect(expired.data).toMatchObject({ request_id: r.request_id, requested_by: 'alice' });
      expect(expired.metadata).toMatchObject({ via: 'api' });
      const late = await approve(r.request_id, T.b);
      expect(late.status).toBe(409);
      expect(((await late.json()) as { message: string }).message).toMatch(/expired/);
      expect((await control()).proof_mode).toBe(true);
      expect((await control()).pending_request).toBeNull();
    } finally {
      await t.db.query('UPDATE aol_clock SET offset_seconds = 0');
      await t.db.query(`SELECT aol_mark_production('sql')`);
    }
  });

  it('the CLI: the actor is the login role; one role alone never completes it, whatever --actor says', async () => {
    const carol = await createLoginRole(t, 'carol', ['aol_admin']);
    const dave = await createLoginRole(t, 'dave', ['aol_admin']);
    const otto = await createLoginRole(t, 'otto', ['aol_operator']);
    const as = (r: LoginRole) => ({ DATABASE_URL: r.url, NODE_ENV: 'production' });
    try {
      const req = await runCli(
        ['proof', 'off', '--reason', 'cli launch', '--actor', 'dave'],
        as(carol),
      );
      expect(req.code).toBe(0);
      const id = /approve request ([0-9a-f-]{36})/.exec(req.stdout)?.[1];
      expect(id).toBeDefined();
      const [requested] = (await events(t.db, `type = 'ProofModeDisableRequested'`)).slice(-1);
      expect(requested).toMatchObject({
        data: { request_id: id, requested_by: carol.name },
        metadata: { actor: carol.name, via: 'cli', label: 'dave' },
      });
      for (const label of ['dave', carol.name, 'alice']) {
        const self = await runCli(['proof', 'approve', id!, '--actor', label], as(carol));
        expect(self.code).toBe(4);
        expect(self.stderr).toMatch(/four-eyes/);
      }
      const op = await runCli(['proof', 'approve', id!], as(otto));
      expect(op.code).toBe(4);
      expect(op.stderr).toMatch(/aol_admin/);
      expect((await control()).proof_mode).toBe(true);
      const ok = await runCli(['proof', 'approve', id!, '--actor', 'carol'], as(dave));
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/proof_mode=false/);
      const [approved] = (await events(t.db, `type = 'ProofModeDisableApproved'`)).slice(-1);
      expect(approved).toMatchObject({
        data: { request_id: id, requested_by: carol.name, approved_by: dave.name },
        metadata: { actor: dave.name, via: 'cli', label: 'carol' },
      });
    } finally {
      for (const r of [carol, dave, otto]) await r.db.close();
    }
  });
});
