import { describe, expect, it } from '@jest/globals';
import { BIGINT_MAX, parseBoundedInt } from '../src/common/bounded.js';
import { checkJsonInput, MAX_DEPTH, MAX_KEYS } from '../src/common/input-limits.js';
import { redactQuery } from '../src/common/redact.js';
import { ReplayLimiter } from '../src/common/rate-limit.js';
import { ValidationError } from '../src/common/errors.js';
import { RetryLaterError } from '../src/common/unavailable.js';

describe('bounded integers at the edge (given / when / then)', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    [7, 7],
    [String(BIGINT_MAX), Number.MAX_SAFE_INTEGER],
  ] as const)('given %j, then %d', (raw, n) => {
    expect(parseBoundedInt(raw, 'after')).toBe(n);
  });

  it.each(['', '-1', '1e3', '1.5', ' 1', '+1', '9223372036854775808', null, 1.5, {}])(
    'given %j, then a 400 naming the parameter',
    (raw) => {
      expect(() => parseBoundedInt(raw, 'after')).toThrow(
        new ValidationError(`after must be an integer from 0 to ${BIGINT_MAX}`),
      );
    },
  );

  it('given a minimum and a maximum, then values outside them are refused', () => {
    expect(() => parseBoundedInt('0', 'limit', { min: 1, max: 1000n })).toThrow(/from 1 to 1000/);
    expect(() => parseBoundedInt('1001', 'limit', { min: 1, max: 1000n })).toThrow(
      /from 1 to 1000/,
    );
    expect(parseBoundedInt('1000', 'limit', { min: 1, max: 1000n })).toBe(1000);
  });
});

describe('JSON bodies at the edge (given / when / then)', () => {
  const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

  it('given an ordinary body, then it passes', () => {
    expect(() =>
      checkJsonInput({ reason: 'ok', payload: { list: [1, 'two'] } }, 'body'),
    ).not.toThrow();
  });

  it('given a body nested past the limit, then a 400, not a stack overflow', () => {
    expect(() => checkJsonInput(nested(MAX_DEPTH - 1), 'body')).not.toThrow();
    expect(() => checkJsonInput(nested(5000), 'body')).toThrow(/nested deeper than 32 levels/);
  });

  it('given too many keys, then a 400', () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_KEYS + 1 }, (_, i) => [`k${i}`, i]));
    expect(() => checkJsonInput(wide, 'body')).toThrow(/more than 2000 keys/);
  });

  it.each([
    ['a NUL in a value', { payload: { note: 'a\u0000b' } }, 'payload.note'],
    ['a lone surrogate in a value', { reason: 'x\ud800' }, 'reason'],
    ['a NUL in a top-level key', { ['k\u0000']: 1 }, 'body key'],
    ['a NUL in a nested key', { payload: { ['k\u0000']: 1 } }, 'payload key'],
    ['a NUL in an array item', { list: ['ok', 'b\u0000'] }, 'list[1]'],
  ])('given %s, then a 400 naming the field', (_n, body, path) => {
    expect(() => checkJsonInput(body, 'body')).toThrow(
      `${path} contains a NUL or an unpaired surrogate character`,
    );
  });

  it('given a paired surrogate (an emoji), then it passes', () => {
    expect(() => checkJsonInput({ reason: 'ship it 🚀' }, 'body')).not.toThrow();
  });
});

describe('credentials in URLs are redacted (given / when / then)', () => {
  it.each([
    ['postgresql://h/db?sslmode=require', 'postgresql://h/db?sslmode=require'],
    ['/events/stream?access_token=abc&after=3', '/events/stream?access_token=***&after=3'],
    ['/x?access%5Ftoken=abc', '/x?access%5Ftoken=***'],
    ['/x?password=p#frag', '/x?password=***'], // the fragment never reaches a server: left out
    ['/x?api-key=1&key=2&keys=3', '/x?api-key=***&key=***&keys=3'],
    ['/x', '/x'],
  ])('given %s, then %s', (url, redacted) => {
    expect(redactQuery(url)).toBe(redacted);
  });
});

describe('point-in-time replays are rate limited (given / when / then)', () => {
  it('given 6 per minute (a burst of 2), when a caller asks 3 times at once, then the third waits', async () => {
    let t = 0;
    const limiter = new ReplayLimiter({ replayRatePerMinute: 6 }, () => t);
    const run = () => limiter.run('alice', async () => 'ok');
    expect(await run()).toBe('ok');
    expect(await run()).toBe('ok');
    const third = await run().catch((e: unknown) => e);
    expect(third).toBeInstanceOf(RetryLaterError);
    expect((third as Error).message).toMatch(/retry in 10 s/);
    expect(await limiter.run('bob', async () => 'bob ok')).toBe('bob ok');
    t += 10_000; // one token back
    expect(await run()).toBe('ok');
  });

  it('given two replays running, when a third starts, then it is refused at once', async () => {
    const limiter = new ReplayLimiter({ replayRatePerMinute: 600 }, () => 0);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = limiter.run('a', () => gate);
    const b = limiter.run('b', () => gate);
    await expect(limiter.run('c', async () => 1)).rejects.toThrow(/already running/);
    release();
    await Promise.all([a, b]);
    expect(await limiter.run('c', async () => 1)).toBe(1);
  });
});
