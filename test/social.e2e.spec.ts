import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { startWorker, WorkerProc } from './support/processes.js';
import { FakeBluesky, FakeMastodon } from './support/social-fakes.js';
import { action, enqueue, events } from './support/queries.js';
import { latestArtifact } from '../src/actions/artifacts.js';
import { rkeyFor } from '../src/actions/social/bluesky.connector.js';

const TOKEN = 'mastodon-token-5f1e2d';
const PASSWORD = 'app-pass-abcd-efgh';
const STATUSES = '/api/v1/statuses';
const CREATE = '/xrpc/com.atproto.repo.createRecord';

describe('POST_SOCIAL for real: Mastodon and Bluesky connectors against local fakes (spawned workers)', () => {
  let t: TestDb;
  let masto: FakeMastodon;
  let sky: FakeBluesky;
  let workers: WorkerProc[] = [];
  const socialEnv = () => ({
    MASTODON_BASE_URL: masto.url,
    MASTODON_ACCESS_TOKEN: TOKEN,
    BLUESKY_SERVICE_URL: sky.url,
    BLUESKY_HANDLE: 'aol.test',
    BLUESKY_APP_PASSWORD: PASSWORD,
  });
  const spawnW = (env: Record<string, string> = socialEnv()) => {
    const w = startWorker(t.url, { AOL_PROOF_MODE: 'false', ...env });
    workers.push(w);
    return w;
  };
  const settled = (id: number, statuses: string[]) =>
    waitFor(
      async () => {
        const a = await action(t.db, id);
        return statuses.includes(a.status) ? a : null;
      },
      30000,
      `action ${id} in ${statuses.join('/')}`,
    );
  const social = (platform: string, content: string, key: string) =>
    enqueue(t.db, 'POST_SOCIAL', { social_platform: platform, content }, key);

  beforeAll(async () => {
    t = await createTestDb('social');
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    masto = await new FakeMastodon(TOKEN).start();
    sky = await new FakeBluesky('aol.test', PASSWORD).start();
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    workers = [];
    masto.hold = undefined;
    sky.hold = undefined;
    await t.db.query('DELETE FROM aol_lease');
  });
  afterAll(async () => {
    await masto.stop();
    await sky.stop();
    await t.db.close();
  });

  it('Mastodon: one status per idempotency key, with the token and the key; 429 → RETRY → SUCCESS; 422 and 401 → FAILED', async () => {
    const id = await social('mastodon', 'hello fediverse', 'm-1');
    expect(await social('mastodon', 'hello fediverse', 'm-1')).toBe(id); // same key: same action
    spawnW();
    const ok = await settled(id, ['SUCCESS']);
    expect(ok.attempts).toBe(1);
    const sent = masto.requests(STATUSES).find((r) => r.headers['idempotency-key'] === 'm-1')!;
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(sent.body)).toEqual({ status: 'hello fediverse' });
    expect(masto.statuses.filter((s) => s.key === 'm-1')).toHaveLength(1);

    masto.inject.set(STATUSES, [FakeMastodon.rateLimited()]);
    const rl = await social('mastodon', 'after a rate limit', 'm-429');
    await waitFor(() => masto.inject.get(STATUSES)!.length === 0, 20000, '429 given');
    const long = await social('mastodon', 'x'.repeat(501), 'm-422');

    const retried = await settled(rl, ['SUCCESS']);
    expect(retried.attempts).toBe(2);
    const retry = await events(t.db, `stream = $1 AND type = 'ActionRetryScheduled'`, [
      `action:${rl}`,
    ]);
    expect(retry[0].data.error).toMatch(
      /^mastodon HTTP 429: Too many requests \(rate limit resets at /,
    );

    const failed = await settled(long, ['FAILED']);
    expect(failed.last_error).toBe(
      'mastodon HTTP 422: Validation failed: Text character limit of 500 exceeded',
    );
    expect(failed.attempts).toBe(1);

    masto.inject.set(STATUSES, [{ status: 401, body: { error: 'The access token is invalid' } }]);
    const unauth = await social('mastodon', 'revoked', 'm-401');
    expect((await settled(unauth, ['FAILED'])).last_error).toBe(
      'mastodon HTTP 401: The access token is invalid',
    );
    expect(masto.statuses.map((s) => s.key).sort()).toEqual(['m-1', 'm-429']);
  });

  it('Bluesky: a session, then one post under the key-derived rkey; an expired token (400 or 401) logs in again; 429 → RETRY; InvalidRequest → FAILED', async () => {
    spawnW();
    const a = await social('bluesky', 'hello atmosphere', 'b-1');
    expect((await settled(a, ['SUCCESS'])).last_error).toBeNull();
    expect(sky.records.get(rkeyFor('b-1'))?.text).toBe('hello atmosphere');
    const b = await social('bluesky', 'second post', 'b-2');
    await settled(b, ['SUCCESS']);
    expect(sky.sessionsCreated).toBe(1); // the session is reused
    for (const status of [400, 401]) {
      sky.expiredStatus = status;
      sky.expireSessions();
      const c = await social('bluesky', `after expiry ${status}`, `b-exp-${status}`);
      expect((await settled(c, ['SUCCESS'])).attempts).toBe(1);
    }
    expect(sky.sessionsCreated).toBe(3);

    sky.inject.set(CREATE, [FakeBluesky.rateLimited()]);
    const rl = await social('bluesky', 'rate limited once', 'b-429');
    expect((await settled(rl, ['SUCCESS'])).attempts).toBe(2);
    const retry = await events(t.db, `stream = $1 AND type = 'ActionRetryScheduled'`, [
      `action:${rl}`,
    ]);
    expect(retry[0].data.error).toMatch(
      /^bluesky createRecord HTTP 429: RateLimitExceeded: Rate Limit Exceeded \(rate limit resets at \d+\)$/,
    );

    sky.inject.set(CREATE, [
      {
        status: 400,
        body: { error: 'InvalidRequest', message: 'Invalid app.bsky.feed.post record' },
      },
    ]);
    const bad = await social('bluesky', 'refused', 'b-400');
    const failed = await settled(bad, ['FAILED']);
    expect(failed.last_error).toBe(
      'bluesky createRecord HTTP 400: InvalidRequest: Invalid app.bsky.feed.post record',
    );
    expect(sky.records.has(rkeyFor('b-400'))).toBe(false);
    expect(sky.records.size).toBe(5);
  });

  it.each([
    ['mastodon', STATUSES],
    ['bluesky', CREATE],
  ])(
    '%s: a worker SIGKILLed mid-request (the post made, the reply not yet read): retried, posted exactly once',
    async (platform, path) => {
      const key = `crash-${platform}`;
      const fake = platform === 'mastodon' ? masto : sky;
      const effects = () =>
        platform === 'mastodon'
          ? masto.statuses.filter((s) => s.key === key).length
          : sky.records.has(rkeyFor(key))
            ? 1
            : 0;
      fake.hold = { path, ms: 60_000 };
      const id = await social(platform, `posted once via ${platform}`, key);
      const a = spawnW();
      await waitFor(
        () => effects() === 1 && fake.requests(path).length > 0,
        20000,
        'post made, reply held',
      );
      const before = fake.requests(path).length;
      a.child.kill('SIGKILL');
      await a.exited;
      fake.hold = undefined;
      spawnW();
      const row = await settled(id, ['SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN']);
      expect([row.status, row.attempts]).toEqual(['SUCCESS', 2]);
      expect(fake.requests(path).length).toBe(before + 1); // the retry did reach the platform
      expect(effects()).toBe(1);
      const recovered = await events(t.db, `stream = $1 AND type = 'ActionRetryScheduled'`, [
        `action:${id}`,
      ]);
      expect(recovered[0].data).toMatchObject({ recovered: true });
    },
  );

  it('proof mode stores the exact requests with credentials redacted; unconfigured platforms keep REAL_RUN_UNCONFIGURED', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    const before = { m: masto.seen.length, b: sky.seen.length };
    spawnW();
    const m = await social('mastodon', 'proof toot', 'p-m');
    const b = await social('bluesky', 'proof skeet', 'p-b');
    await settled(m, ['SUCCESS']);
    await settled(b, ['SUCCESS']);
    const mArt = JSON.parse((await latestArtifact(t.db, m))!.body.toString());
    expect(mArt.requests).toEqual([
      {
        method: 'POST',
        url: `${masto.url}/api/v1/statuses`,
        headers: { Authorization: 'Bearer ***redacted***', 'Idempotency-Key': 'p-m' },
        body: { status: 'proof toot' },
      },
    ]);
    const bText = (await latestArtifact(t.db, b))!.body.toString();
    const bArt = JSON.parse(bText);
    expect(bArt.requests.map((r: { url: string }) => r.url)).toEqual([
      `${sky.url}/xrpc/com.atproto.server.createSession`,
      `${sky.url}${CREATE}`,
    ]);
    expect(bArt.requests[1].body).toMatchObject({
      repo: 'aol.test',
      rkey: rkeyFor('p-b'),
      record: { text: 'proof skeet' },
    });
    expect(bText).not.toContain(PASSWORD);
    expect(JSON.stringify(mArt)).not.toContain(TOKEN);
    expect([masto.seen.length, sky.seen.length]).toEqual([before.m, before.b]);
    await workers[0].stop('SIGTERM');
    const logs = await t.db.query(`SELECT string_agg(message, ' ') AS m FROM aol_execution_logs`);
    const all =
      JSON.stringify((await events(t.db)).map((e) => e.data)) +
      logs.rows[0].m +
      workers[0].output();
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(PASSWORD);

    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    spawnW({ MASTODON_BASE_URL: masto.url, MASTODON_ACCESS_TOKEN: TOKEN });
    const u1 = await social('bluesky', 'nowhere', 'u-b');
    const u2 = await social('linkedin', 'nowhere', 'u-l');
    expect((await settled(u1, ['FAILED'])).last_error).toBe(
      'REAL_RUN_UNCONFIGURED: BLUESKY_SERVICE_URL, BLUESKY_HANDLE, BLUESKY_APP_PASSWORD must be set to post to bluesky',
    );
    expect((await settled(u2, ['FAILED'])).last_error).toBe(
      'REAL_RUN_UNCONFIGURED: no connector for social platform "linkedin"',
    );
  });
});
