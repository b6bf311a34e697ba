import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createTestDb, TestDb } from './support/db.js';
import { runCli, startApiProcess, Proc } from './support/processes.js';

/**
 * Every input boundary is total: a property over every REST route and every
 * CLI command, fed hostile values (numbers beyond bigint, exponents, signs,
 * empty values, NUL and lone surrogates, deep nesting, many keys, random
 * strings and JSON). It asserts no 5xx, no exit code outside the documented
 * set, and that a refused input writes nothing (the log head is unchanged).
 * The counts are printed so CI output shows them.
 */
const EXIT_CODES = [0, 1, 2, 3, 4, 5, 64];
const BIG = ['9223372036854775808', '99999999999999999999', '9'.repeat(40), '18446744073709551616'];
const NOT_PLAIN = ['1e20', '-1', '1.5', '+1', ' 1', '0x10', '', 'NaN', 'Infinity', '١٢'];
const NASTY = [
  'a\u0000b',
  'x\ud800',
  '\udc00y',
  '\r\nX-Injected: 1',
  '%00',
  '../../etc',
  "' OR 1=1",
];

const hostileNumber = fc.oneof(
  fc.constantFrom(...BIG, ...NOT_PLAIN, ...NASTY),
  fc.bigInt({ min: 2n ** 63n, max: 2n ** 70n }).map(String),
  fc.string({ maxLength: 12 }),
);
const anyNumber = fc.oneof(hostileNumber, fc.constant('9223372036854775807'), fc.nat().map(String));
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const hostileJson: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(...NASTY).map((s) => JSON.stringify({ reason: s })),
  fc
    .constantFrom(...NASTY)
    .map((s) => JSON.stringify({ action_type: 'NOOP', payload: { note: s } })),
  fc.constantFrom(...NASTY).map((s) =>
    JSON.stringify({
      action_type: 'HTTP_WEBHOOK',
      payload: { url: 'http://example.com/', headers: { [s]: 'v', X: s } },
    }),
  ),
  fc
    .constantFrom(...NASTY)
    .map((s) =>
      JSON.stringify({ cron: s, time_zone: s, action_type: 'NOOP', payload: {}, catch_up_max: s }),
    ),
  fc.constant(`{"reason":${deep(5000)}}`),
  fc.constant(`{"action_type":"NOOP","payload":{"note":${deep(40)}}}`),
  fc.constant(
    JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))),
  ),
  fc.string({ maxLength: 40 }),
);

type Route = { method: string; path: (v: string) => string; body?: boolean; header?: boolean };
// a URL can't carry a lone surrogate (encodeURIComponent throws): it arrives as U+FFFD
const q = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
const ROUTES: Route[] = [
  { method: 'GET', path: () => '/health' },
  { method: 'GET', path: (v) => `/health/aol?at=${q(v)}` },
  { method: 'GET', path: () => '/control' },
  { method: 'POST', path: () => '/control/pause', body: true },
  { method: 'POST', path: () => '/control/resume', body: true },
  { method: 'POST', path: () => '/control/kill', body: true },
  { method: 'POST', path: () => '/control/revive', body: true },
  { method: 'PUT', path: () => '/control/proof-mode', body: true },
  { method: 'POST', path: (v) => `/control/proof-mode/approve/${q(v)}`, body: true },
  { method: 'POST', path: () => '/actions', body: true },
  { method: 'GET', path: (v) => `/actions?limit=${q(v)}` },
  { method: 'GET', path: (v) => `/actions?cursor=${q(v)}&status=PENDING` },
  { method: 'GET', path: (v) => `/actions/${q(v)}` },
  { method: 'GET', path: (v) => `/actions/${q(v)}/artifact` },
  { method: 'POST', path: (v) => `/actions/${q(v)}/retry`, body: true },
  { method: 'POST', path: (v) => `/actions/${q(v)}/cancel`, body: true },
  { method: 'POST', path: () => '/dlq/retry', body: true },
  { method: 'POST', path: () => '/dlq/cancel', body: true },
  { method: 'GET', path: () => '/lease' },
  { method: 'POST', path: () => '/lease/release', body: true },
  { method: 'GET', path: (v) => `/events?after=${q(v)}` },
  { method: 'GET', path: (v) => `/events?limit=${q(v)}&stream=${q(v)}&type=${q(v)}` },
  { method: 'GET', path: (v) => `/events/stream?after=${q(v)}` },
  { method: 'GET', path: () => '/events/stream', header: true },
  { method: 'GET', path: () => '/events/verify' },
  { method: 'GET', path: (v) => `/state?at=${q(v)}` },
  { method: 'GET', path: () => '/metrics' },
  { method: 'POST', path: () => '/schedules', body: true },
  { method: 'GET', path: (v) => `/schedules?all=${q(v)}` },
  { method: 'GET', path: (v) => `/schedules/${q(v)}` },
  { method: 'POST', path: (v) => `/schedules/${q(v)}/pause`, body: true },
  { method: 'POST', path: (v) => `/schedules/${q(v)}/resume`, body: true },
  { method: 'DELETE', path: (v) => `/schedules/${q(v)}`, body: true },
];

const tally = { http: 0, http5xx: 0, httpRefused: 0, cli: 0, cliBadExit: 0, cliRefused: 0 };

describe('every input boundary is total (fast-check over every route and CLI command)', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  const head = async () =>
    (await t.db.query<{ n: number }>('SELECT coalesce(max(seq), 0)::int AS n FROM aol_events'))
      .rows[0].n;

  beforeAll(async () => {
    t = await createTestDb('fuzz');
    api = await startApiProcess(t.url);
  });
  afterAll(async () => {
    await api?.stop();
    await t?.db.close();
    console.log(
      `fuzz: ${tally.http} HTTP inputs tried, ${tally.http5xx} answered 5xx, ${tally.httpRefused} refused (4xx, nothing written); ` +
        `${tally.cli} CLI inputs tried, ${tally.cliBadExit} exit codes outside {${EXIT_CODES.join(',')}}, ${tally.cliRefused} refused (exit 64, nothing written)`,
    );
  });

  it.each(ROUTES.map((r) => [r.method, r.path('<v>'), r] as const))(
    '%s %s: no 5xx; a refusal writes nothing',
    async (_m, _p, route) => {
      await fc.assert(
        fc.asyncProperty(anyNumber, hostileJson, async (v, body) => {
          const before = await head();
          const ctl = new AbortController();
          const r = await fetch(`${api.url}${route.path(v)}`, {
            method: route.method,
            headers: {
              ...(route.body ? { 'content-type': 'application/json' } : {}),
              ...(route.header ? { 'last-event-id': v.replace(/[^\x20-\x7e]/g, '') } : {}),
            },
            body: route.body ? body : undefined,
            signal: ctl.signal,
          });
          ctl.abort(); // an SSE stream that did start is not read further
          await r.body?.cancel().catch(() => undefined);
          tally.http++;
          if (r.status >= 500) tally.http5xx++;
          expect([route.path(v), r.status < 500]).toEqual([route.path(v), true]);
          if (r.status >= 400 && ![401, 403, 404].includes(r.status)) {
            tally.httpRefused++;
            expect(await head()).toBe(before);
          }
        }),
        { numRuns: 30 },
      );
    },
  );

  it('the SSE stream answers a cursor beyond bigint with 400 before it starts; the max itself streams', async () => {
    for (const bad of ['9223372036854775808', '1e20', '-1', '']) {
      const a = await fetch(`${api.url}/events/stream`, { headers: { 'last-event-id': bad } });
      expect([bad, a.status]).toEqual([bad, 400]);
      if (bad === '') continue;
      const b = await fetch(`${api.url}/events/stream?after=${bad}`);
      expect([bad, b.status]).toEqual([bad, 400]);
      expect(((await b.json()) as { message: string }).message).toMatch(/after/);
    }
    const ctl = new AbortController();
    const ok = await fetch(`${api.url}/events/stream?after=9223372036854775807`, {
      signal: ctl.signal,
    });
    expect(ok.status).toBe(200);
    ctl.abort();
  });

  it('a 650 KB body of 60k unknown keys is a small 400; JSON 5,000 deep is a 400', async () => {
    const keys = JSON.stringify(
      Object.fromEntries(Array.from({ length: 60000 }, (_, i) => [`k${i}`, 1])),
    );
    expect(keys.length).toBeGreaterThan(600_000);
    const r = await fetch(`${api.url}/control/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: keys,
    });
    const text = await r.text();
    expect(r.status).toBe(400);
    expect(text.length).toBeLessThan(2000);
    const d = await fetch(`${api.url}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"action_type":"NOOP","payload":{"note":${deep(5000)}}}`,
    });
    expect(d.status).toBe(400);
    expect(((await d.json()) as { message: string }).message).toMatch(/payload.note.*nested/);
  });

  const CLI_COMMANDS: ((v: string, s: string) => string[])[] = [
    (v) => ['events', 'list', '--after', v],
    (v) => ['events', 'list', '--limit', v],
    (_v, s) => ['events', 'list', '--stream', s, '--type', s],
    (v) => ['events', 'tail', '--after', v],
    (v) => ['events', 'replay', '--until', v],
    () => ['events', 'verify'],
    () => ['events', 'export'],
    (v) => ['worker', `--max-ticks=${v}`],
    (v) => ['actions', 'list', '--limit', v],
    (_v, s) => ['actions', 'list', '--status', s],
    (v) => ['actions', 'retry', v],
    (v) => ['actions', 'cancel', v],
    (_v, s) => ['actions', 'enqueue', '--type', 'NOOP', '--payload', JSON.stringify({ note: s })],
    (_v, s) => ['actions', 'enqueue', '--type', s, '--payload', s],
    (v) => ['actions', 'enqueue', '--type', 'NOOP', '--payload', '{}', '--not-before', v],
    (_v, s) => ['actions', 'enqueue', '--type', 'NOOP', '--payload', '{}', '--key', s],
    (_v, s) => ['pause', '--reason', s, '--actor', `a\n${s}`],
    (_v, s) => ['resume', '--reason', s],
    (_v, _s) => ['kill', '--reason', ''],
    (_v, _s) => ['proof', 'off', '--reason', ' '],
    (_v, s) => ['proof', 'approve', s, '--reason', 'x'],
    () => ['dlq', 'list'],
    (_v, s) => ['dlq', 'cancel', '--actor', `x\u0007${s}`],
    () => ['lease', 'show'],
    () => ['lease', 'release'],
    (_v, s) => ['health', s],
    () => ['artifacts', 'verify'],
    (_v, s) => ['schedules', 'add', '--cron', s, '--tz', s, '--type', 'NOOP', '--payload', '{}'],
    (v) => [
      'schedules',
      'add',
      '--cron',
      '* * * * *',
      '--type',
      'NOOP',
      '--payload',
      '{}',
      '--missed',
      'catch_up',
      '--catch-up-max',
      v,
    ],
    (_v, s) => ['schedules', 'add', '--cron', '0 9 * * *', '--type', s, '--payload', s],
    (_v, s) => ['schedules', 'pause', s, '--reason', s],
    (_v, s) => ['schedules', 'delete', s],
    () => ['schedules', 'list'],
    (_v, s) => [s],
  ];
  // argv can't carry NUL; lone surrogates become U+FFFD on the way: the payload JSON escapes carry those
  const argvSafe = fc.oneof(
    fc.constantFrom(...BIG, ...NOT_PLAIN.filter((x) => x !== ''), '\\u0000', '\\ud800'),
    fc.string({ maxLength: 10 }).map((s) => s.split(String.fromCharCode(0)).join('')),
  );

  it('every CLI command: exit codes in the documented set; exit 64 writes nothing', async () => {
    const env = { DATABASE_URL: t.url, AOL_LEASE_TTL_SECONDS: '2' };
    const samples = fc.sample(fc.tuple(argvSafe, argvSafe), { numRuns: 2, seed: 13 });
    for (const cmd of CLI_COMMANDS) {
      for (const [v, s] of samples) {
        const args = cmd(v, s.length > 0 ? s : 'x');
        if (args[0] === 'worker' && /^\d+$/.test(v) && BigInt(v) <= 1_000_000_000n) continue;
        const before = await head();
        const r = await runCli(args, env);
        tally.cli++;
        if (!EXIT_CODES.includes(r.code ?? -1)) tally.cliBadExit++;
        // the arguments and stderr appear in the failure message
        expect([args, r.code, EXIT_CODES.includes(r.code ?? -1), r.stderr.slice(0, 300)]).toEqual([
          args,
          r.code,
          true,
          r.stderr.slice(0, 300),
        ]);
        if (r.code === 64) {
          tally.cliRefused++;
          expect(await head()).toBe(before);
        }
      }
    }
  }, 240_000);

  it('CLI usage errors are exit 64 with a message naming the option', async () => {
    const env = { DATABASE_URL: t.url };
    for (const [args, name] of [
      [['events', 'list', '--after', '99999999999999999999'], '--after'],
      [['events', 'list', '--after', '1e20'], '--after'],
      [['events', 'list', '--limit', 'abc'], '--limit'],
      [['actions', 'list', '--limit', '0'], '--limit'],
      [['worker', '--max-ticks=1e3'], '--max-ticks'],
      [['actions', 'retry', '9223372036854775808'], 'id'],
      [['events', 'replay', '--until', '0000-01-01'], 'at'],
      [['pause', '--reason', 'r', '--actor', 'evil\nline'], '--actor'],
    ] as const) {
      const r = await runCli([...args], env);
      expect([args, r.code]).toEqual([args, 64]);
      expect(r.stderr).toContain(name);
    }
  });
});
