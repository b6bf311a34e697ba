import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createTestDb, TestDb } from './support/db.js';
import { startApiProcess, Proc } from './support/processes.js';
import { enqueue, events } from './support/queries.js';

const TOKENS = {
  viewer: 'viewer-token-0123456789',
  operator: 'operator-token-0123456789',
  admin: 'admin-token-0123456789',
  admin2: 'second-admin-0123456789',
};
const stored = createHash('sha256').update(TOKENS.admin2).digest('hex');
const SPEC = `vera:viewer:${TOKENS.viewer},otto:operator:${TOKENS.operator},ada:admin:${TOKENS.admin},bob:admin:sha256:${stored}`;

type Route = {
  method: string;
  path: () => string;
  body: () => unknown;
  role: 'viewer' | 'operator' | 'admin';
};

describe('security: bearer tokens and roles (every role × every write route)', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  let actionId = 0;
  const call = (
    r: { method: string; path: string; body?: unknown },
    token?: string,
    extra: Record<string, string> = {},
  ) =>
    fetch(`${api.url}${r.path}`, {
      method: r.method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...extra,
      },
      body: r.body === undefined ? undefined : JSON.stringify(r.body),
    });

  beforeAll(async () => {
    t = await createTestDb('auth');
    api = await startApiProcess(t.url, {
      AOL_API_TOKENS: SPEC,
      AOL_CORS_ORIGINS: 'https://ops.example.com',
    });
  });
  afterAll(async () => {
    await api.stop();
    await t.db.close();
  });

  const writes: Route[] = [
    {
      method: 'POST',
      path: () => '/control/pause',
      body: () => ({ reason: 'r' }),
      role: 'operator',
    },
    {
      method: 'POST',
      path: () => '/control/resume',
      body: () => ({ reason: 'r' }),
      role: 'operator',
    },
    {
      method: 'POST',
      path: () => '/control/kill',
      body: () => ({ reason: 'r' }),
      role: 'operator',
    },
    {
      method: 'POST',
      path: () => '/control/revive',
      body: () => ({ reason: 'r' }),
      role: 'operator',
    },
    {
      method: 'PUT',
      path: () => '/control/proof-mode',
      body: () => ({ reason: 'r', enabled: true }),
      role: 'operator',
    },
    {
      method: 'PUT',
      path: () => '/control/proof-mode',
      body: () => ({ reason: 'r', enabled: false }),
      role: 'admin',
    },
    {
      method: 'POST',
      path: () => '/actions',
      body: () => ({ action_type: 'POST_SOCIAL', payload: { social_platform: 'x', content: 'c' } }),
      role: 'operator',
    },
    {
      method: 'POST',
      path: () => `/actions/${actionId}/cancel`,
      body: () => ({}),
      role: 'operator',
    },
    {
      method: 'POST',
      path: () => `/actions/${actionId}/retry`,
      body: () => ({}),
      role: 'operator',
    },
    { method: 'POST', path: () => '/dlq/retry', body: () => ({}), role: 'operator' },
    { method: 'POST', path: () => '/dlq/cancel', body: () => ({}), role: 'operator' },
    {
      method: 'POST',
      path: () => '/lease/release',
      body: () => ({ force: true, reason: 'r' }),
      role: 'admin',
    },
  ];
  const reads = [
    '/control',
    '/actions',
    '/lease',
    '/events',
    '/events/verify',
    '/state',
    '/metrics',
  ];
  const rank = { viewer: 0, operator: 1, admin: 2 };

  it.each(
    writes.map(
      (w) => [`${w.method} ${w.path.toString().match(/'([^']+)'|`([^`]+)`/)?.[0]}`, w] as const,
    ),
  )('%s', async (_n, route) => {
    actionId = await enqueue(
      t.db,
      'POST_SOCIAL',
      { social_platform: 'x', content: 'c' },
      `auth-${Math.random()}`,
    );
    const r = () => ({ method: route.method, path: route.path(), body: route.body() });
    expect((await call(r())).status).toBe(401);
    expect((await call(r(), 'not-a-token-at-all')).status).toBe(401);
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const res = await call(r(), TOKENS[role]);
      if (rank[role] < rank[route.role]) {
        expect([role, res.status]).toEqual([role, 403]);
        expect(((await res.json()) as { message: string }).message).toMatch(/role/);
      } else {
        // allowed: a success, or a 409 when the state doesn't permit it (nothing to release, …) — never 401/403
        expect([role, [200, 201, 202, 409].includes(res.status)]).toEqual([role, true]);
      }
    }
  });

  it('reads need at least a viewer token; /health and /health/aol are public', async () => {
    for (const path of reads) {
      expect([path, (await call({ method: 'GET', path })).status]).toEqual([path, 401]);
      expect([path, (await call({ method: 'GET', path }, TOKENS.viewer)).status]).toEqual([
        path,
        200,
      ]);
    }
    expect((await call({ method: 'GET', path: '/health' })).status).toBe(200);
    expect((await call({ method: 'GET', path: '/health/aol' })).status).toBe(200);
  });

  it('the actor in the event is the token name; a sha256-stored token works', async () => {
    await call(
      { method: 'POST', path: '/control/pause', body: { reason: 'who' } },
      TOKENS.operator,
    );
    await call({ method: 'POST', path: '/control/resume', body: { reason: 'who' } }, TOKENS.admin2);
    const [a, b] = (
      await events(
        t.db,
        `type IN ('ControlPaused', 'ControlResumed') AND metadata->>'reason' = 'who'`,
      )
    ).slice(-2);
    expect(a.metadata).toMatchObject({ actor: 'otto', via: 'api' });
    expect(b.metadata).toMatchObject({ actor: 'bob', via: 'api' });
  });

  it('/events/stream accepts ?access_token= (EventSource sends no headers); the token never reaches the logs', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/events/stream?access_token=${TOKENS.viewer}`, {
      signal: ctrl.signal,
    });
    expect(res.status).toBe(200);
    ctrl.abort();
    expect((await fetch(`${api.url}/events/stream`)).status).toBe(401);
    expect((await fetch(`${api.url}/control?access_token=${TOKENS.viewer}`)).status).toBe(401);
  });

  it('dangerous operations from the UI are refused unless AICMO_ENABLE_DANGEROUS_UI_OPS=1', async () => {
    const ui = { 'x-aol-client': 'ui' };
    const off = await call(
      { method: 'PUT', path: '/control/proof-mode', body: { reason: 'r', enabled: false } },
      TOKENS.admin,
      ui,
    );
    expect(off.status).toBe(403);
    expect(((await off.json()) as { message: string }).message).toMatch(
      /AICMO_ENABLE_DANGEROUS_UI_OPS/,
    );
    const release = await call(
      { method: 'POST', path: '/lease/release', body: { force: true, reason: 'r' } },
      TOKENS.admin,
      ui,
    );
    expect(release.status).toBe(403);
    // proof on from the UI is not dangerous
    expect(
      (
        await call(
          { method: 'PUT', path: '/control/proof-mode', body: { reason: 'r', enabled: true } },
          TOKENS.operator,
          ui,
        )
      ).status,
    ).toBe(200);
  });

  it('CORS: only the configured origin is allowed', async () => {
    const ok = await fetch(`${api.url}/control`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ops.example.com', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    const bad = await fetch(`${api.url}/control`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('no token appears in logs, events, or error bodies', async () => {
    const bad = await call(
      { method: 'POST', path: '/control/pause', body: { reason: TOKENS.admin } },
      'wrong-token-but-long-enough',
    );
    const body = await bad.text();
    for (const tok of Object.values(TOKENS)) expect(body).not.toContain(tok);
    const all = JSON.stringify((await t.db.query('SELECT data, metadata FROM aol_events')).rows);
    for (const tok of Object.values(TOKENS)) expect(all).not.toContain(tok);
    for (const tok of [...Object.values(TOKENS), 'wrong-token-but-long-enough'])
      expect(api.output()).not.toContain(tok);
    expect(api.output()).toMatch(/"req":\{"id":/); // structured request logs are there
  });

  it('error bodies carry the request id that the logs carry', async () => {
    const r = await call({ method: 'POST', path: '/control/pause', body: {} }, TOKENS.operator, {
      'x-request-id': 'trace-me-123',
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ request_id: expect.stringMatching(/^trace-me-123~/) });
    const { waitFor } = await import('./support/db.js');
    await waitFor(() => /"id":"trace-me-123~/.test(api.output()), 5000, 'the request log line');
  });
});

describe('security: no tokens configured', () => {
  it('outside production: open as anonymous with a loud warning; in production: reads allowed, writes refused', async () => {
    const t = await createTestDb('auth_open');
    const dev = await startApiProcess(t.url);
    const prod = await startApiProcess(t.url, { NODE_ENV: 'production' });
    try {
      expect(dev.output()).toMatch(/AOL_API_TOKENS is not set: the API is OPEN/);
      const w = await fetch(`${dev.url}/control/pause`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"reason":"r"}',
      });
      expect(w.status).toBe(200);
      expect((await fetch(`${prod.url}/control`)).status).toBe(200);
      const refused = await fetch(`${prod.url}/control/resume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"reason":"r"}',
      });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toMatch(/no AOL_API_TOKENS/);
    } finally {
      await dev.stop();
      await prod.stop();
      await t.db.close();
    }
  });

  it('a malformed AOL_API_TOKENS stops the API with a message naming the variable', async () => {
    const t = await createTestDb('auth_bad');
    const { spawnNode, MAIN } = await import('./support/processes.js');
    const p = spawnNode(MAIN, [], {
      DATABASE_URL: t.url,
      PORT: '0',
      AOL_API_TOKENS: 'alice:root:short',
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(
      /AOL_API_TOKENS entry 1 \(alice\): role must be viewer, operator or admin/,
    );
    await t.db.close();
  });
});
