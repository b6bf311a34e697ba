import { describe, expect, it } from '@jest/globals';
import { rkeyFor } from '../src/actions/social/bluesky.connector.js';
import { postSocialHandler } from '../src/actions/handlers/post-social.handler.js';
import { ConfigError, loadConfig } from '../src/config/config.js';

describe('social connectors (pure parts)', () => {
  it('the Bluesky rkey is a valid TID, the same for the same key and different for another', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);
    const rkeys = keys.map(rkeyFor);
    for (const r of rkeys)
      expect(r).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
    expect(new Set(rkeys).size).toBe(keys.length);
    expect(rkeyFor('key-7')).toBe(rkeys[7]);
  });

  it('validation at enqueue: Bluesky posts are at most 300 graphemes (an emoji is one)', () => {
    const ok = postSocialHandler.validate(
      { social_platform: 'Bluesky', content: '👍🏽'.repeat(300) },
      { config: loadConfig({}) },
    );
    expect(ok).toEqual({
      ok: true,
      value: { social_platform: 'bluesky', content: '👍🏽'.repeat(300) },
    });
    expect(
      postSocialHandler.validate(
        { social_platform: 'bluesky', content: 'a'.repeat(301) },
        { config: loadConfig({}) },
      ),
    ).toEqual({
      ok: false,
      errors: ['payload.content must be at most 300 characters for bluesky (has 301)'],
    });
    expect(
      postSocialHandler.validate(
        { social_platform: 'mastodon', content: 'a'.repeat(301) },
        { config: loadConfig({}) },
      ).ok,
    ).toBe(true);
  });

  it('half a platform configuration stops start-up naming what is missing', () => {
    expect(() => loadConfig({ MASTODON_BASE_URL: 'https://m.example' })).toThrow(
      new ConfigError('MASTODON_ACCESS_TOKEN must be set too when MASTODON_BASE_URL is set'),
    );
    expect(() => loadConfig({ BLUESKY_HANDLE: 'a.b', BLUESKY_APP_PASSWORD: 'x' })).toThrow(
      'BLUESKY_SERVICE_URL must be set too when BLUESKY_HANDLE, BLUESKY_APP_PASSWORD is set',
    );
    expect(() =>
      loadConfig({ MASTODON_BASE_URL: 'm.example', MASTODON_ACCESS_TOKEN: 't' }),
    ).toThrow('MASTODON_BASE_URL must be an http(s) URL, got "m.example"');
    expect(loadConfig({}).mastodonBaseUrl).toBeUndefined();
  });
});
