import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, Socket } from 'node:net';
import pg from 'pg';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { startApiProcess, Proc } from './support/processes.js';
import { bulkLog } from './support/bulk.js';

const TOKENS =
  'ann:viewer:tok-ann-0123456789abcdef,bob:viewer:tok-bob-0123456789abcdef,ops:operator:tok-ops-0123456789abcdef';
const as = (t: string) => ({ Authorization: `Bearer ${t}` });

/** An SSE request on a raw socket that never reads what it is sent. */
function stalledStream(base: string, token: string): Promise<Socket> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(
        `GET /events/stream?after=0 HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      s.pause();
      resolve(s);
    });
    s.on('error', reject);
  });
}

const metric = async (api: { url: string }, line: RegExp) =>
  line.exec(
    await fetch(`${api.url}/metrics`, { headers: as('tok-ann-0123456789abcdef') }).then((r) =>
      r.text(),
    ),
  )?.[1];

describe('bounded resources for every client', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  beforeAll(async () => {
    t = await createTestDb('limits');
    api = await startApiProcess(t.url, {
      AOL_API_TOKENS: TOKENS,
      AOL_SSE_MAX_CONNECTIONS: '3',
      AOL_SSE_MAX_CONNECTIONS_PER_TOKEN: '2',
      AOL_SSE_STALL_TIMEOUT_SECONDS: '1',
      AOL_REPLAY_RATE_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await api.stop();
    await t.db.close();
  });

  it('?at= replays need a viewer token; /health/aol without it stays public', async () => {
    expect((await fetch(`${api.url}/health/aol`)).status).toBe(200);
    const r = await fetch(`${api.url}/health/aol?at=1`);
    expect(r.status).toBe(401);
    expect((await fetch(`${api.url}/health/aol?at=`)).status).toBe(401);
    expect((await fetch(`${api.url}/state?at=1`)).status).toBe(401);
  });

  it('replays are rate limited per token: 429 with Retry-After', async () => {
    // AOL_REPLAY_RATE_PER_MINUTE=3: a burst of 1, then one every 20 s.
    const first = await fetch(`${api.url}/health/aol?at=1`, {
      headers: as('tok-bob-0123456789abcdef'),
    });
    expect(first.status).toBe(200);
    const second = await fetch(`${api.url}/state?at=1`, {
      headers: as('tok-bob-0123456789abcdef'),
    });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await second.json()) as { message: string }).message).toMatch(
      /AOL_REPLAY_RATE_PER_MINUTE/,
    );
    // Another token has its own bucket.
    expect(
      (await fetch(`${api.url}/state?at=1`, { headers: as('tok-ops-0123456789abcdef') })).status,
    ).toBe(200);
  });

  it('caps SSE connections per token (429) and in all (503), with a clear body; a closed stream frees its slot', async () => {
    const open = async (token: string) => {
      const ac = new AbortController();
      const r = await fetch(`${api.url}/events/stream`, { headers: as(token), signal: ac.signal });
      return { r, close: () => ac.abort() };
    };
    const a1 = await open('tok-ann-0123456789abcdef');
    const a2 = await open('tok-ann-0123456789abcdef');
    expect([a1.r.status, a2.r.status]).toEqual([200, 200]);
    const a3 = await open('tok-ann-0123456789abcdef');
    expect(a3.r.status).toBe(429);
    expect(a3.r.headers.get('retry-after')).toBeTruthy();
    expect(((await a3.r.json()) as { message: string }).message).toMatch(
      /AOL_SSE_MAX_CONNECTIONS_PER_TOKEN/,
    );
    const b1 = await open('tok-bob-0123456789abcdef');
    expect(b1.r.status).toBe(200);
    const b2 = await open('tok-bob-0123456789abcdef');
    expect(b2.r.status).toBe(503);
    expect(b2.r.headers.get('retry-after')).toBeTruthy();
    expect(((await b2.r.json()) as { message: string }).message).toMatch(
      /AOL_SSE_MAX_CONNECTIONS\b/,
    );
    a1.close();
    await waitFor(
      async () => (await metric(api, /^aol_sse_connections (\d+)/m)) === '2',
      10000,
      'slot freed',
    );
    const a4 = await open('tok-ann-0123456789abcdef');
    expect(a4.r.status).toBe(200);
    expect(await metric(api, /^aol_sse_refused_total\{cap="per_token"\} (\d+)/m)).toBe('1');
    expect(await metric(api, /^aol_sse_refused_total\{cap="total"\} (\d+)/m)).toBe('1');
    for (const s of [a2, a4, b1]) s.close();
    await waitFor(
      async () => (await metric(api, /^aol_sse_connections (\d+)/m)) === '0',
      10000,
      'all closed',
    );
  });

  it('drops an SSE client that stays blocked past AOL_SSE_STALL_TIMEOUT_SECONDS, and counts it', async () => {
    await bulkLog(t.db, 12); // more than loopback's socket buffers hold
    const s = await stalledStream(api.url, 'tok-ann-0123456789abcdef');
    let closed = false;
    s.on('close', () => (closed = true));
    await waitFor(
      async () =>
        (await metric(api, /^aol_sse_clients_dropped_total\{reason="stalled"\} (\d+)/m)) === '1',
      30000,
      'stalled client dropped',
    );
    expect(await metric(api, /^aol_sse_connections (\d+)/m)).toBe('0');
    s.resume(); // reading now: the server has closed the connection
    await waitFor(() => closed, 10000, 'socket closed by the server');
  });
});

describe('pool exhaustion', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  beforeAll(async () => {
    t = await createTestDb('pool_exhaustion');
    api = await startApiProcess(t.url, {
      AOL_DB_POOL_SIZE: '2',
      AOL_DB_POOL_TIMEOUT_SECONDS: '0.5',
    });
  });
  afterAll(async () => {
    await api.stop();
    await t.db.close();
  });

  it('answers 503 + Retry-After (never 500) while every connection is busy; /health keeps telling the truth', async () => {
    // Hold the append lock: both pooled connections block in POST /actions.
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(7310001)');
      const writes = [1, 2].map((i) =>
        fetch(`${api.url}/actions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ action_type: 'NOOP', payload: {}, idempotency_key: `busy-${i}` }),
        }),
      );
      await waitFor(
        async () =>
          (
            await t.db.query(
              `SELECT 1 FROM pg_stat_activity WHERE application_name = 'aol-api' AND wait_event_type = 'Lock'`,
            )
          ).rowCount === 2,
        20000,
        'both connections blocked',
      );
      for (const path of ['/actions?limit=5', '/control', '/events?limit=5']) {
        const r = await fetch(`${api.url}${path}`);
        expect({ path, status: r.status }).toEqual({ path, status: 503 });
        expect(r.headers.get('retry-after')).toBe('1');
        expect(((await r.json()) as { message: string }).message).toMatch(/database busy/);
      }
      const h = await fetch(`${api.url}/health`);
      expect({ status: h.status, body: await h.json() }).toEqual({
        status: 200,
        body: { status: 'ok' },
      });
      expect((await fetch(`${api.url}/health/aol`)).status).toBe(200);
      await holder.query('COMMIT');
      expect((await Promise.all(writes)).map((r) => r.status)).toEqual([201, 201]);
    } finally {
      await holder.end();
    }
  });
});
