import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, startApiProcess, startWorker, Proc } from './support/processes.js';
import { WebhookReceiver } from './support/receivers.js';
import { action, enqueue } from './support/queries.js';

/** Hostile-client hardening of the real API, CLI and worker processes (loopback only). */
describe('hardening: headers, writes, request ids, secrets, SSRF', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  const head = async () =>
    (await t.db.query<{ n: number }>('SELECT coalesce(max(seq), 0)::int AS n FROM aol_events'))
      .rows[0].n;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await createTestDb('hardening');
    api = await startApiProcess(t.url);
  });
  afterAll(async () => {
    await api?.stop();
    await t?.db.close();
  });

  it('security headers: nosniff, frame-ancestors none, no X-Powered-By; open mode on loopback only', async () => {
    for (const path of ['/control', '/', '/health']) {
      const r = await fetch(`${api.url}${path}`);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-powered-by')).toBeNull();
    }
    expect(api.output()).toMatch(/no tokens: listening on 127\.0\.0\.1 only/);
  });

  it("the operator UI's files are served at /, and only the files the build made", async () => {
    const ui = join(ROOT, 'dist', 'ui');
    const page = await fetch(`${api.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const script = /src="\.(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? 'no script in the page';
    expect(existsSync(join(ui, script))).toBe(true);
    const asset = await fetch(`${api.url}${script}`);
    expect([asset.status, asset.headers.get('cache-control')]).toEqual([
      200,
      'public, max-age=3600',
    ]);
    expect((await fetch(`${api.url}/index.html`)).status).toBe(200);
    expect((await fetch(`${api.url}/assets/nothing-here.js`)).status).toBe(404);
    // The paths are read once at start, so an API request never asks the disk
    // for a file: one written into dist/ui afterwards is not served.
    const late = join(ui, `late-${process.pid}.txt`);
    writeFileSync(late, 'not part of the build');
    try {
      const r = await fetch(`${api.url}/${late.split('/').pop()}`);
      expect(r.status).toBe(404);
      expect(readdirSync(ui)).toContain(late.split('/').pop());
    } finally {
      rmSync(late, { force: true });
    }
  });

  it('a cross-origin HTML form POST (urlencoded, multipart, text/plain) writes nothing', async () => {
    const before = await head();
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
    ]) {
      const r = await fetch(`${api.url}/dlq/retry`, {
        method: 'POST',
        headers: { 'content-type': type, origin: 'https://evil.example' },
        body: 'reason=x',
      });
      expect([type, r.status]).toEqual([type, 415]);
      expect(((await r.json()) as { message: string }).message).toMatch(/content-type/);
    }
    expect(await head()).toBe(before);
  });

  it("a client's X-Request-Id can't make two events share a request id", async () => {
    const a = await post('/control/pause', { reason: 'one' }, { 'x-request-id': 'same-id' });
    const b = await post('/control/resume', { reason: 'two' }, { 'x-request-id': 'same-id' });
    const ids = [a.headers.get('x-request-id'), b.headers.get('x-request-id')];
    expect(ids[0]).toMatch(/^same-id~[0-9a-f]{8}$/);
    expect(ids[0]).not.toBe(ids[1]);
    const { rows } = await t.db.query<{ r: string }>(
      "SELECT metadata->>'request_id' AS r FROM aol_events WHERE metadata->>'request_id' LIKE 'same-id%'",
    );
    expect(new Set(rows.map((x) => x.r)).size).toBe(2);
  });

  it('a literal Authorization header is refused at enqueue with the reference form, nothing written', async () => {
    const before = await head();
    const r = await post('/actions', {
      action_type: 'HTTP_WEBHOOK',
      payload: { url: 'https://example.com/', headers: { Authorization: 'Bearer sk-live-123' } },
    });
    expect(r.status).toBe(400);
    const text = await r.text();
    expect(text).toContain('$secret');
    expect(text).toContain('payload.headers.Authorization');
    expect(await head()).toBe(before);
    const cli = await runCli(
      [
        'actions',
        'enqueue',
        '--type',
        'HTTP_WEBHOOK',
        '--payload',
        JSON.stringify({ url: 'https://example.com/', headers: { cookie: 'sid=1' } }),
      ],
      { DATABASE_URL: t.url },
    );
    expect(cli.code).toBe(64);
    expect(cli.stderr).toContain('$secret');
    expect(await head()).toBe(before);
  });

  it('aol health and the API never print a ?password= from DATABASE_URL', async () => {
    // the real password (embedded PostgreSQL has one; a trust-auth server takes any) moved to the query
    const url = new URL(t.url);
    const secret = decodeURIComponent(url.password) || 'hunter2-in-query';
    url.password = '';
    url.searchParams.set('password', secret);
    const h = await runCli(['health'], { DATABASE_URL: url.toString() });
    expect(h.stdout + h.stderr).not.toContain(secret);
    expect(h.stdout).toContain('password=***');
    const bad = new URL(url.toString());
    bad.port = '1';
    const down = await runCli(['health'], {
      DATABASE_URL: bad.toString(),
      DB_STARTUP_RETRY_SECS: '0',
    });
    expect(down.code).toBe(2);
    expect(down.stdout + down.stderr).not.toContain(secret);
    const other = await startApiProcess(url.toString());
    try {
      expect(other.output()).toMatch(/API listening .*password=\*\*\*/);
      expect(other.output()).not.toContain(secret);
      await fetch(`${other.url}/events?access%5Ftoken=tok-in-query-123`);
      await waitFor(() => /access%5Ftoken=\*\*\*/.test(other.output()), 5000, 'request log');
      expect(other.output()).not.toContain('tok-in-query-123');
    } finally {
      await other.stop();
    }
  });
});

describe('hardening: production SSRF refusal at enqueue, worker outcomes', () => {
  let t: TestDb;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    t = await createTestDb('hardening_worker');
    rx = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await rx?.stop();
    await t?.db.close();
  });

  it('production: webhooks to 169.254.169.254 and 127.0.0.1:5432 are refused at enqueue (REST)', async () => {
    const token = 'operator-token-0123456789';
    const prod = await startApiProcess(t.url, {
      NODE_ENV: 'production',
      AOL_API_TOKENS: `op:operator:${token}`,
    });
    try {
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:5432/']) {
        const r = await fetch(`${prod.url}/actions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ action_type: 'HTTP_WEBHOOK', payload: { url } }),
        });
        expect([url, r.status]).toEqual([url, 400]);
        expect(await r.text()).toMatch(/refused in production unless AOL_WEBHOOK_ALLOW_HOSTS/);
      }
    } finally {
      await prod.stop();
    }
  });

  it('real mode: a missing secret is FAILED with SECRET_UNRESOLVED; a 503 keeps last_error short and logs the body', async () => {
    // The production test above recorded this database as production (an API
    // with NODE_ENV=production does): back to development, as an admin may,
    // so that the runbook's proof-off applies at once.
    await t.db.query(`SELECT aol_clear_production('back to development for this test', 'sql')`);
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    rx.respond = () => ({
      status: 503,
      body: `{"detail":"down for maintenance ${'x'.repeat(2000)}"}`,
    });
    const missing = await enqueue(
      t.db,
      'HTTP_WEBHOOK',
      { url: `${rx.url}/a`, headers: { Authorization: { $secret: 'NOT_CONFIGURED' } } },
      'k-missing',
    );
    const down = await enqueue(
      t.db,
      'HTTP_WEBHOOK',
      { url: `${rx.url}/b`, headers: { Authorization: { $secret: 'PARTNER_TOKEN' } } },
      'k-down',
    );
    const w = startWorker(t.url, {
      AOL_PROOF_MODE: 'false',
      AOL_MAX_RETRIES: '1',
      AOL_SECRET_PARTNER_TOKEN: 'real-partner-token-456',
    });
    try {
      await waitFor(async () => (await action(t.db, missing)).status === 'FAILED', 20000, 'FAILED');
      await waitFor(async () => (await action(t.db, down)).status === 'DLQ', 20000, 'DLQ');
    } finally {
      await w.stop();
    }
    const m = await action(t.db, missing);
    expect(m.last_error).toMatch(/^SECRET_UNRESOLVED: AOL_SECRET_NOT_CONFIGURED is not set/);
    const d = await action(t.db, down);
    expect(d.last_error).toBe('HTTP 503 Service Unavailable (attempt 1 of 1)');
    expect(rx.requests.at(-1)!.authorization).toBe('real-partner-token-456');
    const { rows } = await t.db.query<{ message: string }>(
      "SELECT message FROM aol_execution_logs WHERE action_id = $1 AND level = 'ERROR'",
      [down],
    );
    expect(rows[0].message).toMatch(/receiver said: .*down for maintenance/);
    expect(rows[0].message.length).toBeLessThan(700);
    const all = JSON.stringify((await t.db.query('SELECT data FROM aol_events')).rows);
    expect(all).not.toContain('real-partner-token-456');
  });
});
