import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProofExpirySweeper } from '../src/control/deployment.js';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { events } from './support/queries.js';
import { createLoginRole, liveAndFolded, LoginRole } from './support/roles.js';

/**
 * Four-eyes where every door meets (issue 12): in a production database the
 * runbook's proof-off UPDATE becomes a request by the session user, proof
 * mode stays on, and only another login role can approve it.
 */
describe('production four-eyes through runbook SQL', () => {
  let t: TestDb;
  let op: LoginRole;
  let ann: LoginRole;
  let ben: LoginRole;
  const flags = async () =>
    (await t.db.query('SELECT proof_mode FROM aol_control_flags')).rows[0].proof_mode as boolean;
  const runbookOff = async (r: LoginRole) => {
    const client = await r.db.pool.connect();
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      await client.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1;');
    } finally {
      client.removeAllListeners('notice');
      client.release();
    }
    return notices;
  };

  beforeAll(async () => {
    t = await createTestDb('four_eyes_sql');
    op = await createLoginRole(t, 'op', ['aol_operator']);
    ann = await createLoginRole(t, 'ann', ['aol_admin']);
    ben = await createLoginRole(t, 'ben', ['aol_admin']);
    await t.db.query(`SELECT aol_mark_production('sql')`);
  });
  afterAll(async () => {
    const { live, folded } = await liveAndFolded(t.db);
    expect(live).toEqual(folded);
    for (const r of [op, ann, ben]) await r.db.close();
    await t.db.close();
  });

  it('the runbook UPDATE leaves proof mode on, records a request and names it in a NOTICE', async () => {
    const notices = await runbookOff(ann);
    expect(await flags()).toBe(true);
    const [req] = await events(t.db, `type = 'ProofModeDisableRequested'`);
    expect(req).toMatchObject({
      data: { requested_by: ann.name },
      metadata: { actor: ann.name, via: 'sql' },
    });
    expect(notices.join('\n')).toContain(String(req.data.request_id));
    expect(await events(t.db, `type = 'ProofModeDisabled'`)).toHaveLength(0);
  });

  it('the requester cannot approve, whatever it writes; an operator cannot; another admin can', async () => {
    const [req] = await events(t.db, `type = 'ProofModeDisableRequested'`);
    const id = String(req.data.request_id);
    await expect(ann.db.query('SELECT aol_approve_proof_off($1)', [id])).rejects.toThrow(
      /four-eyes/,
    );
    // forging the approver or the requester in the event data
    await expect(
      ann.db.query(
        `SELECT * FROM aol_append_many(ARRAY['control','control'], NULL, ARRAY['ProofModeDisableApproved','ProofModeDisabled'],
           ARRAY[jsonb_build_object('request_id', $1::text, 'requested_by', 'someone', 'approved_by', $2::text), jsonb_build_object('request_id', $1::text)],
           ARRAY['{"actor":"x"}'::jsonb, '{"actor":"x"}'::jsonb])`,
        [id, ben.name],
      ),
    ).rejects.toThrow(/four-eyes|approved_by/);
    // a session's temporary table cannot stand in for the requests
    await ann.db.tx(async (c) => {
      await c.query(
        `CREATE TEMP TABLE aol_proof_requests ON COMMIT DROP AS SELECT * FROM public.aol_proof_requests`,
      );
      await c.query(`UPDATE pg_temp.aol_proof_requests SET requested_by = 'nobody'`);
      await expect(c.query('SELECT aol_approve_proof_off($1)', [id])).rejects.toThrow(/four-eyes/);
    });
    await expect(op.db.query('SELECT aol_approve_proof_off($1)', [id])).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      op.db.query(`SELECT aol_append('control', NULL, 'ProofModeDisabled', '{}', '{}')`),
    ).rejects.toThrow(/production: proof mode goes off only by a four-eyes request/);
    expect(await flags()).toBe(true);

    await ben.db.query('SELECT aol_approve_proof_off($1, $2)', [id, 'launch']);
    expect(await flags()).toBe(false);
    const tail = (await events(t.db, 'true')).slice(-2);
    expect(tail.map((e) => e.type)).toEqual(['ProofModeDisableApproved', 'ProofModeDisabled']);
    expect(tail[0]).toMatchObject({
      data: { request_id: id, requested_by: ann.name, approved_by: ben.name },
      metadata: { actor: ben.name, via: 'sql', reason: 'launch' },
    });
    await op.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1;');
    expect(await flags()).toBe(true);
  });

  it('an operator’s runbook request expires on its own: recorded when the window closes, not when someone looks', async () => {
    await runbookOff(op);
    const [, req] = await events(t.db, `type = 'ProofModeDisableRequested'`);
    expect(req.data.requested_by).toBe(op.name);
    // the clock can only move outside production: an admin clears it, as an event
    await ann.db.query(`SELECT aol_clear_production('expiry drill', 'sql')`);
    await t.db.query('UPDATE aol_clock SET offset_seconds = 16 * 60');
    const sweeper = new ProofExpirySweeper(t.db, () => 'test-sweeper', 'worker', 50).start();
    try {
      const [expired] = await waitFor(
        () => events(t.db, `type = 'ProofModeDisableExpired'`).then((e) => (e.length ? e : null)),
        10000,
        'the sweeper records the expiry',
      );
      expect(expired).toMatchObject({
        data: { request_id: req.data.request_id, requested_by: op.name },
        metadata: { actor: 'test-sweeper', via: 'worker' },
      });
    } finally {
      sweeper.stop();
      await t.db.query('UPDATE aol_clock SET offset_seconds = 0');
      await t.db.query(`SELECT aol_mark_production('sql')`);
    }
    await expect(
      ben.db.query('SELECT aol_approve_proof_off($1)', [req.data.request_id]),
    ).rejects.toThrow(/no pending, unexpired/);
    expect(await flags()).toBe(true);
  });
});
