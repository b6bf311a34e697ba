import { describe, expect, it } from '@jest/globals';
import { ActionError, classifyHttpStatus, toActionError } from '../src/actions/action-error.js';
import { TokenTable } from '../src/auth/tokens.js';

describe('retry classification (given / when / then)', () => {
  it.each([
    [200, 'ok'],
    [204, 'ok'],
    [500, 'transient'],
    [503, 'transient'],
    [408, 'transient'],
    [429, 'transient'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
    [302, 'permanent'],
  ] as const)('given HTTP %i, then %s', (status, kind) => {
    expect(classifyHttpStatus(status)).toBe(kind);
  });

  it('given an ActionError, then it is kept as it is', () => {
    const e = new ActionError('permanent', 'HTTP 400');
    expect(toActionError(e)).toBe(e);
  });

  it('given an abort (budget or lease), then a transient error naming the reason', () => {
    const c = new AbortController();
    c.abort(new Error('exceeded the tick budget'));
    const e = toActionError(new Error('AbortError'), c.signal);
    expect([e.kind, e.message]).toEqual(['transient', 'aborted: exceeded the tick budget']);
  });

  it('given a network error, then a transient connection error with its code', () => {
    const err = Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const e = toActionError(err);
    expect([e.kind, e.message]).toEqual(['transient', 'connection error: ECONNREFUSED']);
  });
});

describe('token table (given / when / then)', () => {
  const plain = 'viewer-token-0123456789';
  const t = new TokenTable(`ops:operator:operator-token-0123456789,eve:viewer:${plain}`);

  it('given a known token, then its principal; an unknown one, then nobody', () => {
    expect(t.verify('operator-token-0123456789')).toEqual({ name: 'ops', role: 'operator' });
    expect(t.verify(plain)).toEqual({ name: 'eve', role: 'viewer' });
    expect(t.verify('operator-token-012345678')).toBeUndefined();
    expect(t.configured).toBe(true);
  });

  it('given a token in stored form (sha256:<hex>), then the plain token matches it', async () => {
    const { createHash } = await import('node:crypto');
    const hex = createHash('sha256').update(plain).digest('hex');
    expect(new TokenTable(`eve:admin:sha256:${hex}`).verify(plain)).toEqual({
      name: 'eve',
      role: 'admin',
    });
  });

  it.each([
    ['no role', 'ops:operator-token-0123456789', /name:role:token/],
    ['an unknown role', 'ops:root:operator-token-0123456789', /role must be/],
    ['a short token', 'ops:admin:short', /at least 16/],
    ['a repeated name', 'a:admin:0123456789abcdef,a:viewer:0123456789abcdeg', /unique/],
  ])('given %s, then a configuration error', (_n, spec, msg) => {
    expect(() => new TokenTable(spec)).toThrow(msg);
  });

  it('given nothing, then not configured and nobody verifies', () => {
    const empty = new TokenTable(undefined);
    expect(empty.configured).toBe(false);
    expect(empty.verify('')).toBeUndefined();
  });
});
