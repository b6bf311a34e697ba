import type { Queryable } from '../src/db/db.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { loadConfig, maskUrl } from '../src/config/config.js';
import { httpWebhookHandler } from '../src/actions/handlers/http-webhook.handler.js';
import { isBlockedAddress, LookupFn } from '../src/actions/outbound.js';
import { ActionError } from '../src/actions/action-error.js';
import { redactQuery } from '../src/common/redact.js';
import { fromUi, AolRequest } from '../src/common/request-actor.js';
import { TokenTable } from '../src/auth/tokens.js';
import { cliActor } from '../src/cli/context.js';
import { WebhookReceiver } from './support/receivers.js';

const SECRET = 'partner-secret-value-123';
const dev = loadConfig({ AOL_SECRET_PARTNER_TOKEN: SECRET });
const prod = (extra: Record<string, string> = {}) =>
  loadConfig({ NODE_ENV: 'production', AOL_SECRET_PARTNER_TOKEN: SECRET, ...extra });

/** A lookup that answers `name → ip` without DNS, recording what it was asked. */
function fakeLookup(map: Record<string, string>, asked: string[]): LookupFn {
  return (hostname, options, cb) => {
    asked.push(hostname);
    const ip = map[hostname];
    if (!ip) return cb(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), '');
    const list: LookupAddress[] = [{ address: ip, family: ip.includes(':') ? 6 : 4 }];
    if (options.all) cb(null, list);
    else cb(null, ip, list[0].family);
  };
}

const validate = (payload: unknown, config = dev) =>
  httpWebhookHandler.validate(payload, { config });
const errors = (payload: unknown, config = dev) => {
  const v = validate(payload, config);
  return v.ok ? [] : v.errors;
};

describe('webhook payloads: secrets by reference, headers validated, targets checked', () => {
  it('refuses literal credential headers (any case, configurable) and shows the reference form', () => {
    for (const h of ['Authorization', 'cookie', 'X-API-KEY', 'Proxy-Authorization']) {
      const e = errors({ url: 'https://example.com/', headers: { [h]: 'Bearer abc' } });
      expect(e.join()).toMatch(/credential: give it by reference/);
      expect(e.join()).toContain('{"$secret": "PARTNER_TOKEN"}');
    }
    expect(errors({ url: 'https://example.com/', headers: { 'X-Partner-Sig': 'abc' } })).toEqual(
      [],
    );
    const custom = loadConfig({ AOL_CREDENTIAL_HEADERS: 'X-Partner-Sig' });
    expect(
      errors({ url: 'https://example.com/', headers: { 'x-partner-sig': 'abc' } }, custom).join(),
    ).toMatch(/credential/);
    expect(
      errors({
        url: 'https://example.com/',
        headers: { Authorization: { $secret: 'PARTNER_TOKEN' } },
      }),
    ).toEqual([]);
    expect(
      errors({ url: 'https://example.com/', headers: { Authorization: { $secret: 'bad name' } } })
        .length,
    ).toBe(1);
  });

  it('refuses CRLF and control characters in values, invalid names and transport headers', () => {
    const bad: Record<string, string>[] = [
      { 'X-A': 'v\r\nX-Injected: 1' },
      { 'X-A': 'v\u0000' },
      { 'Bad Name': 'v' },
      { 'X-A\r\n': 'v' },
      { '': 'v' },
      { Host: 'evil.example' },
      { 'Content-Length': '5' },
    ];
    for (const headers of bad)
      expect([headers, errors({ url: 'https://example.com/', headers }).length]).toEqual([
        headers,
        1,
      ]);
  });

  it('in production refuses loopback, private, link-local and metadata IP targets unless allow-listed', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:5432/',
      'http://127.1/',
      'http://0x7f000001/',
      'http://10.0.0.8/',
      'http://192.168.1.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fe80::1]/',
      'http://100.100.100.200/',
    ])
      expect([url, errors({ url }, prod()).join()]).toEqual([
        url,
        expect.stringMatching(/refused in production/),
      ]);
    expect(errors({ url: 'http://127.0.0.1:5432/' }, dev)).toEqual([]);
    expect(
      errors({ url: 'http://10.0.0.8/' }, prod({ AOL_WEBHOOK_ALLOW_HOSTS: '10.0.0.8' })),
    ).toEqual([]);
    expect(errors({ url: 'https://93.184.216.34/' }, prod())).toEqual([]);
  });

  it('classifies addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '169.254.169.254',
      '10.1.2.3',
      '172.31.0.1',
      '::1',
      'fd00::1',
      '::ffff:7f00:1',
      '0.0.0.0',
    ])
      expect([ip, isBlockedAddress(ip)]).toEqual([ip, true]);
    for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '172.32.0.1'])
      expect([ip, isBlockedAddress(ip)]).toEqual([ip, false]);
  });

  it('the proof artifact shows the reference, not the value; our Idempotency-Key replaces the caller’s', () => {
    const v = validate({
      url: 'https://example.com/',
      headers: { Authorization: { $secret: 'PARTNER_TOKEN' }, 'idempotency-KEY': 'caller' },
    });
    if (!v.ok) throw new Error(v.errors.join());
    const r = httpWebhookHandler.render(v.value, {
      actionId: 1,
      idempotencyKey: 'ours',
      config: dev,
    });
    const text = JSON.stringify(r);
    expect(text).not.toContain(SECRET);
    expect(r.headers).toEqual({
      Authorization: '{"$secret":"PARTNER_TOKEN"}',
      'Idempotency-Key': 'ours',
    });
  });
});

describe('webhook execution against a local receiver (loopback only)', () => {
  let rx: WebhookReceiver;
  beforeAll(async () => {
    rx = await new WebhookReceiver().start();
  });
  afterAll(() => rx.stop());

  const run = (payload: unknown, config = dev, lookup?: LookupFn) => {
    const v = validate(payload, loadConfig({})); // validated as in dev, so loopback URLs pass
    if (!v.ok) throw new Error(v.errors.join());
    return httpWebhookHandler.execute(v.value, {
      actionId: 1,
      idempotencyKey: 'key-1',
      config,
      lookup,
      signal: new AbortController().signal,
    });
  };

  it('resolves the secret at execution, sends one Idempotency-Key (ours), keeps the body out of last_error', async () => {
    rx.respond = (req) => ({
      status: 503,
      body: JSON.stringify({ echo: req.headers.authorization, why: 'maintenance' }),
    });
    const err = (await run({
      url: `${rx.url}/hook`,
      headers: { Authorization: { $secret: 'PARTNER_TOKEN' }, 'IDEMPOTENCY-key': 'caller' },
      body: { a: 1 },
    }).catch((e: unknown) => e)) as ActionError;
    const got = rx.requests.at(-1)!;
    expect(got.authorization).toBe(SECRET);
    expect(got.key).toBe('key-1');
    expect(err).toBeInstanceOf(ActionError);
    expect(err.kind).toBe('transient');
    expect(err.message).toBe('HTTP 503 Service Unavailable');
    expect(err.detail).toContain('maintenance');
    expect(err.detail).not.toContain(SECRET);
  });

  it('a missing secret fails permanently with SECRET_UNRESOLVED, before any request', async () => {
    const before = rx.requests.length;
    const err = (await run(
      { url: `${rx.url}/hook`, headers: { 'X-Api-Key': { $secret: 'NOT_SET' } } },
      loadConfig({}),
    ).catch((e: unknown) => e)) as ActionError;
    expect(err.kind).toBe('permanent');
    expect(err.message).toMatch(/^SECRET_UNRESOLVED: AOL_SECRET_NOT_SET is not set/);
    expect(rx.requests.length).toBe(before);
  });

  it('production: a name resolving to 169.254.169.254 or 127.0.0.1 is refused at connect time, no request made', async () => {
    rx.respond = () => ({ status: 200 });
    const port = new URL(rx.url).port;
    const before = rx.requests.length;
    const asked: string[] = [];
    const lookup = fakeLookup(
      { 'metadata.test': '169.254.169.254', 'receiver.test': '127.0.0.1' },
      asked,
    );
    for (const host of ['metadata.test', 'receiver.test']) {
      const err = (await run({ url: `http://${host}:${port}/x` }, prod(), lookup).catch(
        (e: unknown) => e,
      )) as ActionError;
      expect([host, err.kind, err.message]).toEqual([
        host,
        'permanent',
        expect.stringMatching(
          /resolves to (169\.254\.169\.254|127\.0\.0\.1).*refused in production/,
        ),
      ]);
    }
    expect(asked).toEqual(expect.arrayContaining(['metadata.test', 'receiver.test']));
    expect(rx.requests.length).toBe(before);
    // allow-listed: delivered (to the loopback receiver)
    const ok = await run(
      { url: `http://receiver.test:${port}/x` },
      prod({ AOL_WEBHOOK_ALLOW_HOSTS: 'receiver.test' }),
      lookup,
    );
    expect(ok.message).toMatch(/HTTP 200/);
    expect(rx.requests.length).toBe(before + 1);
  });
});

describe('redaction, client marking, actor and token names', () => {
  it('redacts credentials in every encoding of a query and a database URL', () => {
    expect(redactQuery('/events/stream?access%5Ftoken=SECRET1&after=3')).toBe(
      '/events/stream?access%5Ftoken=***&after=3',
    );
    expect(redactQuery('/x?ACCESS_TOKEN=SECRET1')).not.toContain('SECRET1');
    const masked = maskUrl(
      'postgresql://u:pw1@h:5432/db?password=pw2&sslmode=require&%70assword=pw3',
    );
    for (const s of ['pw1', 'pw2', 'pw3']) expect(masked).not.toContain(s);
    expect(masked).toContain('sslmode=require');
  });

  it('X-AOL-Client: ui in any case or sent twice counts as the UI', () => {
    const req = (v: string | string[] | undefined) =>
      ({ headers: { 'x-aol-client': v } }) as unknown as AolRequest;
    for (const v of ['ui', 'UI', ' Ui ', 'api, ui', ['x', 'ui']])
      expect([v, fromUi(req(v))]).toEqual([v, true]);
    for (const v of ['uix', 'smoke', undefined]) expect([v, fromUi(req(v))]).toEqual([v, false]);
  });

  it('actor strings and token names carry no control characters', async () => {
    // the CLI's actor is its login role; --actor is a label, still one line
    const db = { query: async () => ({ rows: [{ u: 'alice' }] }) } as unknown as Queryable;
    await expect(cliActor(db, 'evil\nINFO fake line')).rejects.toThrow(/--actor/);
    await expect(cliActor(db, 'a\u0007')).rejects.toThrow(/--actor/);
    expect(await cliActor(db, 'ally')).toEqual({ name: 'alice', via: 'cli', label: 'ally' });
    expect(() => new TokenTable('bad\nname:admin:0123456789abcdef0123')).toThrow(/name/);
  });
});
