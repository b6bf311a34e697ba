import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from '../src/config/config.js';
import {
  formatPublicKey,
  generateSigningKeyPair,
  keyId,
  KeyFormatError,
  parsePrivateKey,
  parsePublicKey,
  signHead,
  verifyHead,
} from '../src/common/signing.js';
import { checkpointDue } from '../src/events/checkpoints.js';
import { checkAgainstCheckpoints } from '../src/events/checkpoint-verify.js';

const head = { seq: 42, hash: 'ab'.repeat(32), occurred_at: '2026-12-02T20:00:00.123456Z' };

describe('signing keys', () => {
  it('a generated pair round-trips: the seed parses, the printed public key verifies its signatures', () => {
    const k = generateSigningKeyPair();
    const priv = parsePrivateKey(k.signingKey);
    const pub = parsePublicKey(k.publicKey);
    expect(formatPublicKey(priv)).toBe(k.publicKey);
    expect(keyId(pub)).toBe(k.keyId);
    expect(k.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sig = signHead(priv, head);
    expect(verifyHead(pub, head, sig)).toBe(true);
  });

  it('accepts a PKCS#8 PEM (also with \\n escapes, as env files carry it) and an SPKI PEM public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const spki = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const a = parsePrivateKey(pem);
    const b = parsePrivateKey(pem.replace(/\n/g, '\\n'));
    expect(formatPublicKey(a)).toBe(formatPublicKey(publicKey));
    expect(formatPublicKey(b)).toBe(formatPublicKey(publicKey));
    expect(formatPublicKey(parsePublicKey(spki))).toBe(formatPublicKey(publicKey));
  });

  it('accepts the public key in standard base64, and with + turned into a space by a query string', () => {
    const k = generateSigningKeyPair();
    const std = Buffer.from(k.publicKey, 'base64url').toString('base64');
    expect(formatPublicKey(parsePublicKey(std))).toBe(k.publicKey);
    expect(formatPublicKey(parsePublicKey(std.replace(/\+/g, ' ')))).toBe(k.publicKey);
  });

  it.each([
    ['too short a seed', Buffer.alloc(16, 1).toString('base64')],
    ['not base64', 'not a key!'],
    ['a PEM that is not a key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'],
    [
      'an RSA key',
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    ],
  ])('refuses %s as a private key', (_label, value) => {
    expect(() => parsePrivateKey(value)).toThrow(KeyFormatError);
  });

  it('refuses a public key of the wrong length', () => {
    expect(() => parsePublicKey('abc')).toThrow(KeyFormatError);
    expect(() => parsePublicKey(Buffer.alloc(33).toString('base64url'))).toThrow(KeyFormatError);
  });

  it('a signature fails for any other head, another key, or a damaged signature', () => {
    const priv = parsePrivateKey(generateSigningKeyPair().signingKey);
    const other = parsePublicKey(generateSigningKeyPair().publicKey);
    const sig = signHead(priv, head);
    expect(verifyHead(priv, { ...head, seq: 43 }, sig)).toBe(false);
    expect(verifyHead(priv, { ...head, hash: 'ac'.repeat(32) }, sig)).toBe(false);
    expect(verifyHead(priv, { ...head, occurred_at: '2026-12-02T20:00:00.123457Z' }, sig)).toBe(
      false,
    );
    expect(verifyHead(other, head, sig)).toBe(false);
    const damaged = Buffer.from(sig, 'base64');
    damaged[0] ^= 1;
    expect(verifyHead(priv, head, damaged.toString('base64'))).toBe(false);
    expect(verifyHead(priv, head, 'short')).toBe(false);
  });
});

describe('configuration', () => {
  it('parses AOL_SIGNING_KEY and the checkpoint settings', () => {
    const k = generateSigningKeyPair();
    const c = loadConfig({
      AOL_SIGNING_KEY: k.signingKey,
      AOL_CHECKPOINT_EVERY_EVENTS: '50',
      AOL_CHECKPOINT_EVERY_SECONDS: '60',
      AOL_CHECKPOINT_DIR: '/tmp/x',
    });
    expect(formatPublicKey(c.signingKey!)).toBe(k.publicKey);
    expect([c.checkpointEveryEvents, c.checkpointEverySeconds, c.checkpointDir]).toEqual([
      50,
      60,
      '/tmp/x',
    ]);
    const d = loadConfig({});
    expect([d.signingKey, d.checkpointEveryEvents, d.checkpointEverySeconds]).toEqual([
      undefined,
      1000,
      3600,
    ]);
  });

  it('a bad AOL_SIGNING_KEY stops start-up naming the variable, never echoing the value', () => {
    const secret = Buffer.alloc(20, 7).toString('base64');
    let err: unknown;
    try {
      loadConfig({ AOL_SIGNING_KEY: secret });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^AOL_SIGNING_KEY /);
    expect((err as Error).message).not.toContain(secret);
    expect(() => loadConfig({ AOL_CHECKPOINT_EVERY_EVENTS: '0' })).toThrow(
      /AOL_CHECKPOINT_EVERY_EVENTS/,
    );
  });

  it('the parsed key prints nothing of itself', () => {
    const k = generateSigningKeyPair();
    const c = loadConfig({ AOL_SIGNING_KEY: k.signingKey });
    expect(JSON.stringify(c)).not.toContain(k.signingKey);
    expect(String(c.signingKey)).not.toContain(k.signingKey);
  });
});

describe('when a checkpoint is due', () => {
  const policy = { everyEvents: 10, everySeconds: 60 };
  const now = new Date('2026-12-02T20:10:00Z');
  const at = (s: number) => new Date(now.getTime() - s * 1000);
  it.each([
    ['nothing new since the last checkpoint', 20, 20, at(3600), false],
    ['enough events', 30, 20, at(1), true],
    ['a few events, not long ago', 25, 20, at(10), false],
    ['a few events, long enough ago', 25, 20, at(60), true],
    ['no checkpoint yet, the log young', 5, 0, at(10), false],
  ])('%s', (_l, headSeq, lastEventSeq, since, due) => {
    expect(checkpointDue({ headSeq, lastEventSeq, since, now }, policy)).toBe(due);
  });
});

describe('checking the chain against checkpoints (pure)', () => {
  const priv = parsePrivateKey(generateSigningKeyPair().signingKey);
  const cp = (seq: number, hash: string, event_seq = seq + 1) => {
    const h = { seq, hash, occurred_at: head.occurred_at };
    return { ...h, signature: signHead(priv, h), key_id: keyId(priv), event_seq };
  };
  const heads = new Map([
    [10, { hash: 'a'.repeat(64), occurred_at: head.occurred_at }],
    [20, { hash: 'b'.repeat(64), occurred_at: head.occurred_at }],
  ]);
  const chainOk = { ok: true, checked: 25, first_bad_seq: null };
  const src = (c: ReturnType<typeof cp>) => ({ checkpoint: c, source: 'file' });

  it('passes when every signed head matches', () => {
    const r = checkAgainstCheckpoints(chainOk, 25, heads, [src(cp(10, 'a'.repeat(64)))], priv);
    expect([r.ok, r.first_bad_seq, r.checkpoints.last_verified_seq]).toEqual([true, null, 10]);
  });

  it('a rewritten head fails from the first seq after the last matching checkpoint', () => {
    const list = [src(cp(10, 'a'.repeat(64))), src(cp(20, 'c'.repeat(64)))];
    const r = checkAgainstCheckpoints(chainOk, 25, heads, list, priv);
    expect([r.ok, r.first_bad_seq, r.bad_range]).toEqual([false, 11, [11, 20]]);
  });

  it('a checkpoint past the head means a cut tail; an earlier chain break still wins', () => {
    const r = checkAgainstCheckpoints(chainOk, 25, heads, [src(cp(30, 'd'.repeat(64)))], priv);
    expect([r.ok, r.first_bad_seq]).toEqual([false, 26]);
    const broken = { ok: false, checked: 4, first_bad_seq: 5, problem: 'x' };
    expect(
      checkAgainstCheckpoints(broken, 25, heads, [src(cp(30, 'd'.repeat(64)))], priv),
    ).toMatchObject({
      first_bad_seq: 5,
    });
  });

  it('without a key nothing is claimed about the checkpoints, and the answer says so', () => {
    const r = checkAgainstCheckpoints(chainOk, 25, heads, [src(cp(30, 'd'.repeat(64)))], undefined);
    expect(r.ok).toBe(true);
    expect(r.unchecked.join(' ')).toMatch(/no public key/);
    expect(r.note).toMatch(/only a copy held outside the database/);
  });
});
