import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { MAIN, spawnNode, startApiProcess, Proc } from './support/processes.js';

/** Accumulate a streaming response body (SSE) until it ends or is aborted. */
function readStream(res: Response): { text: () => string; done: Promise<void> } {
  const reader = res.body!.getReader();
  let text = '';
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      text += Buffer.from(value).toString('utf8');
    }
  })().catch(() => undefined);
  return { text: () => text, done };
}

type Json = Record<string, unknown>;

describe('REST API (spawned `node dist/main.js`)', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, {
      method: path.endsWith('proof-mode') ? 'PUT' : 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const eventCount = async () =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM aol_events')).rows[0].n;

  beforeAll(async () => {
    t = await createTestDb('api');
    api = await startApiProcess(t.url);
  });
  afterAll(async () => {
    await api?.stop();
    await t.db.close();
  });

  it('GET /health is 200 {"status":"ok"}', async () => {
    const r = await fetch(`${api.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('GET /control has the flags and an ETag with the version', async () => {
    const r = await fetch(`${api.url}/control`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Json;
    expect(body).toMatchObject({
      paused: false,
      killed: false,
      proof_mode: true,
      version: 1,
      acknowledged: false,
      pending_request: null,
    });
    expect(r.headers.get('etag')).toBe('"1"');
  });

  it.each([
    ['/control/pause', {}, { paused: true }, 'ControlPaused'],
    ['/control/resume', {}, { paused: false }, 'ControlResumed'],
    ['/control/kill', {}, { killed: true }, 'ControlKilled'],
    ['/control/revive', {}, { killed: false }, 'ControlRevived'],
    ['/control/proof-mode', { enabled: false }, { proof_mode: false }, 'ProofModeDisabled'],
    ['/control/proof-mode', { enabled: true }, { proof_mode: true }, 'ProofModeEnabled'],
  ])(
    '%s %j changes the flag, answers the new state with the seq, records the event',
    async (path, extra, flags, type) => {
      const r = await post(
        path,
        { reason: `test ${type}`, ...extra },
        { 'x-request-id': `rq-${type}` },
      );
      expect(r.status).toBe(200);
      const body = (await r.json()) as Json;
      expect(body).toMatchObject({ ...flags, changed: true });
      expect(typeof body.seq).toBe('number');
      expect(r.headers.get('etag')).toBe(`"${body.version}"`);
      const ev = await fetch(`${api.url}/events?after=${(body.seq as number) - 1}&limit=1`).then(
        (x) => x.json() as Promise<{ events: Json[] }>,
      );
      expect(ev.events[0]).toMatchObject({
        seq: body.seq,
        type,
        metadata: {
          actor: 'anonymous',
          via: 'api',
          reason: `test ${type}`,
          request_id: expect.stringMatching(new RegExp(`^rq-${type}~[0-9a-f]{8}$`)),
        },
      });
    },
  );

  it('marks requests from the UI as via ui', async () => {
    const r = await post('/control/pause', { reason: 'from the ui' }, { 'x-aol-client': 'ui' });
    const body = (await r.json()) as Json;
    const ev = await fetch(`${api.url}/events?after=${(body.seq as number) - 1}&limit=1`).then(
      (x) => x.json() as Promise<{ events: Json[] }>,
    );
    expect(ev.events[0]).toMatchObject({ metadata: { via: 'ui' } });
    await post('/control/resume', { reason: 'back' });
  });

  it('a no-op change answers 200 with changed=false and writes nothing', async () => {
    const before = await eventCount();
    const r = await post('/control/resume', { reason: 'not paused' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ changed: false, seq: null, message: 'not paused' });
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ['missing reason', '/control/pause', {}, /reason/],
    ['blank reason', '/control/kill', { reason: '   ' }, /reason must not be empty/],
    ['reason not a string', '/control/pause', { reason: 42 }, /reason must be a string/],
    [
      'unknown field',
      '/control/pause',
      { reason: 'x', force: true },
      /property force should not exist/,
    ],
    ['enabled missing', '/control/proof-mode', { reason: 'x' }, /enabled must be a boolean/],
    [
      'enabled not boolean',
      '/control/proof-mode',
      { reason: 'x', enabled: 'yes' },
      /enabled must be a boolean/,
    ],
    ['malformed JSON', '/control/pause', '{"reason": ', /JSON|Unexpected|unterminated/i],
  ])(
    '400 on %s, with field messages, a request id, and nothing written',
    async (_name, path, body, message) => {
      const before = await eventCount();
      const r = await post(path, body);
      expect(r.status).toBe(400);
      const b = (await r.json()) as Json;
      expect(b).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(b.message)).toMatch(message);
      expect(typeof b.request_id).toBe('string');
      expect(r.headers.get('x-request-id')).toBe(b.request_id);
      expect(await eventCount()).toBe(before);
    },
  );

  it('413 on a body over 1 MB, nothing written', async () => {
    const before = await eventCount();
    const r = await post('/control/pause', { reason: 'x'.repeat(1_100_000) });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ statusCode: 413 });
    expect(await eventCount()).toBe(before);
  });

  it('If-Match: the current version (quoted or bare) passes; a stale one is 409 and writes nothing', async () => {
    const c = (await fetch(`${api.url}/control`).then((x) => x.json())) as { version: number };
    const stale = await post(
      '/control/pause',
      { reason: 'stale' },
      { 'if-match': `"${c.version - 1}"` },
    );
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ statusCode: 409, error: 'Conflict' });
    expect(((await fetch(`${api.url}/control`).then((x) => x.json())) as Json).version).toBe(
      c.version,
    );
    const bad = await post('/control/pause', { reason: 'garbage' }, { 'if-match': 'abc' });
    expect(bad.status).toBe(400);
    const ok = await post('/control/pause', { reason: 'fresh' }, { 'if-match': String(c.version) });
    expect(ok.status).toBe(200);
    const ok2 = await post(
      '/control/resume',
      { reason: 'fresh' },
      { 'if-match': `"${c.version + 1}"` },
    );
    expect(ok2.status).toBe(200);
  });

  it('GET /events pages with after/limit and filters by stream and type; bad query is 400', async () => {
    const page1 = (await fetch(`${api.url}/events?limit=2`).then((x) => x.json())) as {
      events: Json[];
      next_after: number;
    };
    expect(page1.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(page1.next_after).toBe(2);
    const page2 = (await fetch(`${api.url}/events?after=2&limit=2`).then((x) => x.json())) as {
      events: Json[];
    };
    expect(page2.events[0].seq).toBe(3);
    const typed = (await fetch(`${api.url}/events?type=ControlKilled&stream=control`).then((x) =>
      x.json(),
    )) as { events: Json[] };
    expect(typed.events.length).toBeGreaterThan(0);
    expect(typed.events.every((e) => e.type === 'ControlKilled')).toBe(true);
    expect((await fetch(`${api.url}/events?after=abc`)).status).toBe(400);
    expect((await fetch(`${api.url}/events?limit=0`)).status).toBe(400);
    expect((await fetch(`${api.url}/events?stream=bogus`)).status).toBe(400);
  });

  it('GET /events/verify and GET /state?at=', async () => {
    expect(await fetch(`${api.url}/events/verify`).then((x) => x.json())).toMatchObject({
      ok: true,
      first_bad_seq: null,
    });
    const s = (await fetch(`${api.url}/state?at=2`).then((x) => x.json())) as Json;
    expect(s).toMatchObject({
      at_seq: 2,
      flags: { paused: true, killed: false, proof_mode: true, version: 2 },
      lease: null,
    });
    expect(Object.keys(s.queue_counts as Json).sort()).toEqual(
      [
        'cancelled',
        'dlq',
        'failed',
        'pending',
        'retry',
        'running',
        'success',
        'succeeded',
        'unknown',
      ].sort(),
    );
    const byTime = (await fetch(
      `${api.url}/state?at=${encodeURIComponent(new Date(Date.now() + 60000).toISOString())}`,
    ).then((x) => x.json())) as Json;
    expect(byTime.at_seq).toBe(await eventCount());
    expect((await fetch(`${api.url}/state?at=yesterday`)).status).toBe(400);
  });

  it('SSE: resumes after Last-Event-ID with no gap or duplicate, then streams live', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/events/stream`, {
      headers: { 'last-event-id': '3' },
      signal: ctrl.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const sse = readStream(res);
    const ids = () => [...sse.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const head = await eventCount();
    await waitFor(() => ids().length >= head - 3, 10000, 'backlog');
    const live = (await post('/control/kill', { reason: 'live' }).then((x) => x.json())) as {
      seq: number;
    };
    await waitFor(() => ids().includes(live.seq), 10000, 'live event');
    ctrl.abort();
    await sse.done;
    expect(ids()).toEqual(Array.from({ length: live.seq - 3 }, (_, i) => 4 + i));
    expect(sse.text()).toMatch(/event: ControlKilled\ndata: \{.*"seq":/);
    await post('/control/revive', { reason: 'back' });
  });

  it('SSE without Last-Event-ID starts live; ?after= resumes', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/events/stream?after=1`, { signal: ctrl.signal });
    const sse = readStream(res);
    await waitFor(() => /^id: 2$/m.test(sse.text()), 10000, 'event 2');
    ctrl.abort();
    await sse.done;
    expect(sse.text()).not.toMatch(/^id: 1$/m);
  });

  it('GET /health is 503 with a reason while the database refuses connections, and 200 again after', async () => {
    const { adminQuery } = await import('./support/db.js');
    await adminQuery(`ALTER DATABASE ${t.name} WITH ALLOW_CONNECTIONS false`);
    await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [
      t.name,
    ]);
    try {
      const r = await waitFor(
        async () => {
          const x = await fetch(`${api.url}/health`);
          return x.status === 503 ? x : null;
        },
        20000,
        '503',
      );
      const body = (await r!.json()) as Json;
      expect(body.status).toBe('unavailable');
      expect(String(body.reason)).toMatch(/database unreachable/);
      expect(String(body.reason)).not.toMatch(/postgres(ql)?:\/\//);
    } finally {
      await adminQuery(`ALTER DATABASE ${t.name} WITH ALLOW_CONNECTIONS true`);
    }
    await waitFor(
      async () => (await fetch(`${api.url}/health`)).status === 200,
      20000,
      '200 again',
    );
  });

  it('the API refuses to start on an unmigrated database, with a clear message', async () => {
    const empty = await createTestDb('api_unmigrated', { empty: true });
    const p = spawnNode(MAIN, [], { DATABASE_URL: empty.url, PORT: '0' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/run `aol migrate`/);
    await empty.db.close();
  });
});
