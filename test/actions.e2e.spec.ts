import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startApiProcess, startWorker, WorkerProc, Proc } from './support/processes.js';
import { SmtpReceiver, WebhookReceiver } from './support/receivers.js';
import { action, events } from './support/queries.js';

type Json = Record<string, unknown>;

describe('action queue end to end (API + worker + local receivers)', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  let hook: WebhookReceiver;
  let smtp: SmtpReceiver;
  const artifactDir = mkdtempSync(join(tmpdir(), 'aol-artifacts-'));
  const post = (path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const enqueue = async (body: Json) => {
    const r = await post('/actions', body);
    expect(r.status).toBe(201);
    return (await r.json()) as { id: number; idempotency_key: string };
  };
  const settled = (id: number, statuses: string[]) =>
    waitFor(
      async () => {
        const a = await action(t.db, id);
        return statuses.includes(a.status) ? a : null;
      },
      30000,
      `action ${id} in ${statuses}`,
    );
  async function withWorker<T>(
    env: Record<string, string>,
    fn: (w: WorkerProc) => Promise<T>,
  ): Promise<T> {
    const w = startWorker(t.url, { SMTP_URL: smtp.url, AOL_ARTIFACT_DIR: artifactDir, ...env });
    try {
      return await fn(w);
    } finally {
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    }
  }

  beforeAll(async () => {
    t = await createTestDb('actions');
    hook = await new WebhookReceiver().start();
    smtp = await new SmtpReceiver().start();
    api = await startApiProcess(t.url);
  });
  afterAll(async () => {
    await api.stop();
    await hook.stop();
    await smtp.stop();
    await t.db.close();
  });

  it('enqueue: 201 new, 200 with the same action for a known key (nothing new written)', async () => {
    const body = {
      action_type: 'POST_SOCIAL',
      payload: { social_platform: 'linkedin', content: 'hello', audience: 'all' },
      idempotency_key: 'dup-1',
      not_before: new Date(Date.now() + 3600_000).toISOString(),
    };
    const first = await post('/actions', body);
    expect(first.status).toBe(201);
    const a = (await first.json()) as Json;
    expect(a).toMatchObject({
      idempotency_key: 'dup-1',
      action_type: 'POST_SOCIAL',
      status: 'PENDING',
      attempts: 0,
      last_error: null,
    });
    const n = (await events(t.db)).length;
    const again = await post('/actions', {
      ...body,
      payload: { social_platform: 'x', content: 'other' },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Json).id).toBe(a.id);
    expect((await events(t.db)).length).toBe(n);
    const got = (await fetch(`${api.url}/actions/${a.id}`).then((r) => r.json())) as {
      logs: Json[];
    };
    expect(got.logs[0]).toMatchObject({
      level: 'INFO',
      message: 'enqueued POST_SOCIAL (key dup-1)',
    });
  });

  it.each([
    ['unknown action type', { action_type: 'FAX', payload: {} }, /action_type must be one of/],
    [
      'payload not an object',
      { action_type: 'HTTP_WEBHOOK', payload: 'x' },
      /payload must be a JSON object/,
    ],
    [
      'webhook without url',
      { action_type: 'HTTP_WEBHOOK', payload: {} },
      /payload.url is required/,
    ],
    [
      'webhook bad url',
      { action_type: 'HTTP_WEBHOOK', payload: { url: 'file:///etc/passwd' } },
      /http\(s\) URL/,
    ],
    [
      'webhook bad method',
      { action_type: 'HTTP_WEBHOOK', payload: { url: 'http://x/', method: 'BREW' } },
      /payload.method/,
    ],
    [
      'email bad address',
      { action_type: 'SEND_EMAIL', payload: { to: 'nobody', subject: 's', text: 't' } },
      /payload.to must be an email/,
    ],
    [
      'email unknown field',
      { action_type: 'SEND_EMAIL', payload: { to: 'a@b.c', subject: 's', text: 't', bcc: 'x' } },
      /payload.bcc is not a known field/,
    ],
    [
      'social without content',
      { action_type: 'POST_SOCIAL', payload: { social_platform: 'x' } },
      /payload.content is required/,
    ],
    [
      'generate bad max_tokens',
      { action_type: 'GENERATE_CONTENT', payload: { prompt: 'p', max_tokens: -1 } },
      /max_tokens/,
    ],
    [
      'bad not_before',
      {
        action_type: 'POST_SOCIAL',
        payload: { social_platform: 'x', content: 'c' },
        not_before: 'tomorrow',
      },
      /not_before/,
    ],
    [
      'unknown body field',
      { action_type: 'POST_SOCIAL', payload: { social_platform: 'x', content: 'c' }, priority: 1 },
      /property priority should not exist/,
    ],
  ])('enqueue refuses %s with 400 and writes nothing', async (_n, body, msg) => {
    const n = (await events(t.db)).length;
    const r = await post('/actions', body);
    expect(r.status).toBe(400);
    expect(JSON.stringify(((await r.json()) as Json).message)).toMatch(msg);
    expect((await events(t.db)).length).toBe(n);
  });

  it('non-numeric and unknown ids: 400 and 404', async () => {
    expect((await fetch(`${api.url}/actions/abc`)).status).toBe(400);
    expect((await fetch(`${api.url}/actions/999999`)).status).toBe(404);
    expect((await post('/actions/abc/retry', {})).status).toBe(400);
  });

  it('proof mode: no receiver gets anything; artifacts are stored, served, mirrored and hash-verify', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    const ids = [
      (
        await enqueue({
          action_type: 'HTTP_WEBHOOK',
          payload: {
            url: `${hook.url}/proof`,
            body: { n: 1 },
            headers: { Authorization: { $secret: 'RECEIVER_TOKEN' } },
          },
          idempotency_key: 'proof-hook',
        })
      ).id,
      (
        await enqueue({
          action_type: 'SEND_EMAIL',
          payload: { to: 'ops@example.com', subject: 'hi', text: 'body' },
          idempotency_key: 'proof-mail',
        })
      ).id,
      (
        await enqueue({
          action_type: 'GENERATE_CONTENT',
          payload: { prompt: 'write a haiku' },
          idempotency_key: 'proof-llm',
        })
      ).id,
    ];
    const env = {
      AOL_PROOF_MODE: 'false',
      AOL_MAX_ACTIONS_PER_TICK: '5',
      AOL_SECRET_RECEIVER_TOKEN: 'receiver-secret',
    };
    await withWorker(env, async () => {
      for (const id of ids) await settled(id, ['SUCCESS']);
    });
    expect(hook.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
    for (const id of ids) {
      const a = (await fetch(`${api.url}/actions/${id}`).then((r) => r.json())) as {
        logs: { artifact_ref: string | null; artifact_sha256: string | null; message: string }[];
      };
      const log = a.logs.find((l) => l.artifact_ref)!;
      expect(log.message).toMatch(/proof mode/);
      const art = await fetch(`${api.url}/actions/${id}/artifact`);
      expect(art.status).toBe(200);
      expect(art.headers.get('content-type')).toMatch(/application\/json/);
      const bytes = Buffer.from(await art.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(log.artifact_sha256);
      expect(existsSync(join(artifactDir, `action-${id}-${log.artifact_sha256}.json`))).toBe(true);
    }
    const hookArtifact = JSON.parse(
      await fetch(`${api.url}/actions/${ids[0]}/artifact`).then((r) => r.text()),
    );
    expect(hookArtifact).toMatchObject({
      transport: 'http',
      method: 'POST',
      url: `${hook.url}/proof`,
      body: '{"n":1}',
      headers: { 'Idempotency-Key': 'proof-hook', Authorization: '{"$secret":"RECEIVER_TOKEN"}' },
    });
    expect(readdirSync(artifactDir).join()).not.toMatch(/receiver-secret/);
    expect(readFileSync(join(artifactDir, readdirSync(artifactDir)[0]), 'utf8')).not.toMatch(
      /receiver-secret/,
    );
    const verify = await runCli(['artifacts', 'verify'], { DATABASE_URL: t.url });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/OK: 3 artifact/);
  });

  it('real mode: one delivery each (with the Idempotency-Key); 500s → RETRY → DLQ; 404 → FAILED; missing connectors → REAL_RUN_UNCONFIGURED', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    hook.respond = (req) => ({
      status: req.url === '/down' ? 500 : req.url === '/gone' ? 404 : 200,
    });
    const ok = await enqueue({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: `${hook.url}/ok`, body: 'raw text' },
      idempotency_key: 'real-ok',
    });
    const down = await enqueue({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: `${hook.url}/down` },
      idempotency_key: 'real-down',
    });
    const gone = await enqueue({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: `${hook.url}/gone` },
      idempotency_key: 'real-gone',
    });
    const mail = await enqueue({
      action_type: 'SEND_EMAIL',
      payload: { to: 'ops@example.com', subject: 'real', text: 'sent for real' },
      idempotency_key: 'real-mail',
    });
    const llm = await enqueue({
      action_type: 'GENERATE_CONTENT',
      payload: { prompt: 'x' },
      idempotency_key: 'real-llm',
    });
    const social = await enqueue({
      action_type: 'POST_SOCIAL',
      payload: { social_platform: 'linkedin', content: 'c' },
      idempotency_key: 'real-social',
    });
    await withWorker({ AOL_PROOF_MODE: 'false', AOL_MAX_ACTIONS_PER_TICK: '10' }, async (w) => {
      expect(await settled(ok.id, ['SUCCESS'])).toMatchObject({ attempts: 1 });
      expect(await settled(down.id, ['DLQ'])).toMatchObject({
        attempts: 3,
        last_error: expect.stringMatching(/HTTP 500/),
      });
      expect(await settled(gone.id, ['FAILED'])).toMatchObject({
        attempts: 1,
        last_error: expect.stringMatching(/HTTP 404/),
      });
      await settled(mail.id, ['SUCCESS']);
      expect(await settled(llm.id, ['FAILED'])).toMatchObject({
        last_error: expect.stringMatching(/^REAL_RUN_UNCONFIGURED: OPENAI_API_KEY/),
      });
      expect(await settled(social.id, ['FAILED'])).toMatchObject({
        last_error: expect.stringMatching(/^REAL_RUN_UNCONFIGURED/),
      });
      expect(w.output()).toMatch(/started/); // it started without OPENAI_API_KEY
    });
    expect(hook.byKey('real-ok')).toHaveLength(1);
    expect(hook.byKey('real-ok')[0].body).toBe('raw text');
    expect(hook.byKey('real-down')).toHaveLength(3);
    expect(hook.byKey('real-gone')).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].data).toMatch(/X-AOL-Idempotency-Key: real-mail/i);
    const retries = await events(t.db, `stream = $1 AND type = 'ActionRetryScheduled'`, [
      `action:${down.id}`,
    ]);
    expect(retries.map((e) => e.data.attempt)).toEqual([1, 2]);

    // SMTP not configured → REAL_RUN_UNCONFIGURED
    const noSmtp = await enqueue({
      action_type: 'SEND_EMAIL',
      payload: { to: 'a@b.c', subject: 's', text: 't' },
      idempotency_key: 'real-nosmtp',
    });
    await withWorker({ AOL_PROOF_MODE: 'false', SMTP_URL: '' }, async () => {
      expect(await settled(noSmtp.id, ['FAILED'])).toMatchObject({
        last_error: 'REAL_RUN_UNCONFIGURED: SMTP_URL is not set',
      });
    });
    expect(smtp.mails).toHaveLength(1);
  });

  it('retry and cancel: one action, the whole DLQ, via REST and CLI; 409 when not retryable', async () => {
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    const dlq = (await t.db.query(`SELECT id FROM aol_actions WHERE status = 'DLQ'`)).rows.map(
      (r) => r.id,
    );
    expect(dlq.length).toBeGreaterThan(0);
    const success = (
      await t.db.query(`SELECT id FROM aol_actions WHERE status = 'SUCCESS' LIMIT 1`)
    ).rows[0].id;
    const conflict = await post(`/actions/${success}/retry`, {});
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as Json).message).toMatch(
      /only DLQ, FAILED, UNKNOWN actions can be retried/,
    );
    const retried = await post(`/actions/${dlq[0]}/retry`, { reason: 'receiver fixed' });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ status: 'PENDING', attempts: 0 });
    const cancelled = await runCli(
      ['actions', 'cancel', String(dlq[0]), '--reason', 'no longer needed'],
      { DATABASE_URL: t.url },
    );
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/now CANCELLED/);
    const failed = (
      await t.db.query(`SELECT id FROM aol_actions WHERE status = 'FAILED' ORDER BY id`)
    ).rows.map((r) => r.id);
    await runCli(['actions', 'retry', String(failed[0])], { DATABASE_URL: t.url });
    const list = await runCli(['dlq', 'list'], { DATABASE_URL: t.url });
    expect(list.code).toBe(0);
    const r = await post('/dlq/retry', {});
    expect(r.status).toBe(200);
    const listed = await runCli(['actions', 'list', '--status', 'pending'], {
      DATABASE_URL: t.url,
    });
    expect(listed.stdout).toMatch(/PENDING/);
    const bad = await runCli(['actions', 'retry', 'abc'], { DATABASE_URL: t.url });
    expect(bad.code).toBe(64);
    const notFound = await runCli(['actions', 'retry', '424242'], { DATABASE_URL: t.url });
    expect(notFound.code).toBe(5);
  });

  it("runbook SQL: UPDATE aol_actions SET status = 'CANCELLED' WHERE status = 'DLQ' → one ActionCancelled per action, via sql", async () => {
    // two actions straight into the DLQ: the receiver answers 500 and one attempt is all they get
    await t.db.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
    hook.respond = () => ({ status: 503 });
    const x = await enqueue({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: `${hook.url}/x` },
      idempotency_key: 'sql-dlq-1',
    });
    const y = await enqueue({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: `${hook.url}/y` },
      idempotency_key: 'sql-dlq-2',
    });
    await withWorker(
      { AOL_PROOF_MODE: 'false', AOL_MAX_RETRIES: '1', AOL_MAX_ACTIONS_PER_TICK: '10' },
      async () => {
        await settled(x.id, ['DLQ']);
        await settled(y.id, ['DLQ']);
      },
    );
    const dlqBefore = (
      await t.db.query(`SELECT id FROM aol_actions WHERE status = 'DLQ' ORDER BY id`)
    ).rows.map((r) => r.id);
    const before = (await t.db.query('SELECT max(seq) AS s FROM aol_events')).rows[0].s;
    const res = await t.db.query(
      `UPDATE aol_actions SET status = 'CANCELLED' WHERE status = 'DLQ'`,
    );
    expect(res.rowCount).toBe(dlqBefore.length);
    const cancels = await events(t.db, `seq > $1`, [before]);
    expect(cancels.map((e) => e.stream)).toEqual(dlqBefore.map((id) => `action:${id}`));
    expect(
      cancels.every(
        (e) =>
          e.type === 'ActionCancelled' &&
          e.metadata.via === 'sql' &&
          e.data.previous_status === 'DLQ',
      ),
    ).toBe(true);
    const counts = Object.fromEntries(
      (await t.db.query('SELECT status, n FROM aol_queue_counts')).rows.map((r) => [r.status, r.n]),
    );
    const real = Object.fromEntries(
      (
        await t.db.query('SELECT status, count(*)::int AS n FROM aol_actions GROUP BY status')
      ).rows.map((r) => [r.status, r.n]),
    );
    for (const [s, n] of Object.entries(counts)) expect(n).toBe(real[s] ?? 0);
    await expect(
      t.db.query(`UPDATE aol_actions SET status = 'PENDING' WHERE id = $1`, [x.id]),
    ).rejects.toThrow(/read model/);
    await expect(t.db.query(`DELETE FROM aol_actions`)).rejects.toThrow(/read model/);
    const { rows } = await t.db.query<{ n: number }>('SELECT aol_rebuild() AS n');
    expect(rows[0].n).toBeGreaterThan(0);
    const after = Object.fromEntries(
      (await t.db.query('SELECT status, n FROM aol_queue_counts')).rows.map((r) => [r.status, r.n]),
    );
    expect(after).toEqual(counts);
  });

  it('an action that overruns AOL_MAX_TICK_SECONDS is aborted and retried; the tick is PARTIAL', async () => {
    hook.respond = (req) => (req.url === '/slow' ? { status: 200, holdMs: 5000 } : { status: 200 });
    const slow = await enqueue({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: `${hook.url}/slow` },
      idempotency_key: 'slow-1',
    });
    await withWorker(
      { AOL_PROOF_MODE: 'false', AOL_MAX_TICK_SECONDS: '0.5', AOL_RETRY_BASE_SECONDS: '60' },
      async () => {
        const a = await settled(slow.id, ['RETRY']);
        expect(a.last_error).toMatch(/aborted: exceeded the tick budget/);
        await waitFor(
          async () =>
            (await events(t.db, `type = 'TickRecorded' AND data->>'status' = 'PARTIAL'`)).length >
            0,
          10000,
          'PARTIAL tick',
        );
      },
    );
  });

  it('not_before: an action is not run before its time', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true, paused = false WHERE id = 1');
    const at = new Date(Date.now() + 2000);
    const later = await enqueue({
      action_type: 'POST_SOCIAL',
      payload: { social_platform: 'x', content: 'later' },
      idempotency_key: 'later-1',
      not_before: at.toISOString(),
    });
    await withWorker({}, async () => {
      const done = await settled(later.id, ['SUCCESS']);
      const started = await events(t.db, `stream = $1 AND type = 'ActionStarted'`, [
        `action:${later.id}`,
      ]);
      expect(started[0].occurred_at.getTime()).toBeGreaterThanOrEqual(at.getTime());
      expect(done.attempts).toBe(1);
    });
  });

  it('GENERATE_CONTENT in real mode: an OpenAI-compatible call to OPENAI_BASE_URL; the key never reaches events, logs or artifacts', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    const llm = await new WebhookReceiver().start();
    llm.respond = () => ({
      status: 200,
      body: JSON.stringify({ choices: [{ message: { content: 'A haiku about queues' } }] }),
    });
    const secret = 'sk-test-9f8e7d6c5b4a';
    try {
      const gen = await enqueue({
        action_type: 'GENERATE_CONTENT',
        payload: { prompt: 'haiku please', model: 'tiny', max_tokens: 50 },
        idempotency_key: 'llm-real',
      });
      await withWorker(
        { AOL_PROOF_MODE: 'false', OPENAI_API_KEY: secret, OPENAI_BASE_URL: `${llm.url}/v1` },
        async (w) => {
          await settled(gen.id, ['SUCCESS']);
          expect(w.output()).not.toContain(secret);
        },
      );
      expect(llm.requests).toHaveLength(1);
      expect(llm.requests[0]).toMatchObject({
        method: 'POST',
        path: '/v1/chat/completions',
        authorization: `Bearer ${secret}`,
      });
      expect(JSON.parse(llm.requests[0].body)).toEqual({
        model: 'tiny',
        messages: [{ role: 'user', content: 'haiku please' }],
        max_tokens: 50,
      });
      const art = await fetch(`${api.url}/actions/${gen.id}/artifact`);
      expect(await art.text()).toBe('A haiku about queues');
      const everything = JSON.stringify(
        (await t.db.query('SELECT data, metadata FROM aol_events')).rows,
      );
      expect(everything).not.toContain(secret);
    } finally {
      await llm.stop();
    }
  });

  it('aol artifacts verify exits 1 when a stored artifact no longer matches its hash', async () => {
    const { rows } = await t.db.query<{ ref: string }>(
      'SELECT ref FROM aol_artifacts ORDER BY ref LIMIT 1',
    );
    await t.db.query(
      `UPDATE aol_artifacts SET body = convert_to('forged', 'UTF8') WHERE ref = $1`,
      [rows[0].ref],
    );
    const r = await runCli(['artifacts', 'verify'], { DATABASE_URL: t.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(rows[0].ref);
  });
});
