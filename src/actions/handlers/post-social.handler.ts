import { ActionHandler } from '../action-handler.js';
import { unconfigured } from '../action-error.js';
import { PayloadReader, result } from '../payload.js';
import { CONNECTORS } from '../social/connectors.js';
import { SocialPost } from '../social/social-connector.js';

/**
 * POST_SOCIAL: a post on a social platform, through the connector named by
 * `social_platform` (social/connectors.ts). Real mode on a platform without a
 * connector, or one whose credentials are not configured, fails with
 * REAL_RUN_UNCONFIGURED; proof mode stores the exact request(s) a connector
 * would send (credentials redacted), or the post itself where there is none.
 *
 * Idempotent: each connector makes a repeat with the same idempotency key a
 * no-op at the platform (Mastodon's Idempotency-Key, Bluesky's derived record
 * key), so an attempt cut off by a dead worker is retried rather than UNKNOWN.
 */
export const postSocialHandler: ActionHandler<SocialPost> = {
  type: 'POST_SOCIAL',
  idempotent: true,
  validate(payload) {
    const r = new PayloadReader(payload, ['social_platform', 'content', 'audience']);
    const platform = r.str('social_platform', {
      max: 40,
      pattern: /^[a-z][a-z0-9_-]*$/i,
      patternMessage: 'payload.social_platform must be a platform name such as linkedin',
    });
    const content = r.str('content', { max: 10_000 });
    const audience = r.str('audience', { required: false, max: 500 });
    const post = {
      social_platform: (platform ?? '').toLowerCase(),
      content: content ?? '',
      ...(audience ? { audience } : {}),
    };
    if (platform && content)
      r.errors.push(...(CONNECTORS.get(post.social_platform)?.validate?.(post) ?? []));
    return result(r, () => post);
  },
  render(p, ctx) {
    const connector = CONNECTORS.get(p.social_platform);
    if (connector?.configured(ctx.config)) return connector.render(p, ctx);
    return {
      transport: 'social',
      platform: p.social_platform,
      post: { content: p.content, audience: p.audience ?? null },
      idempotency_key: ctx.idempotencyKey,
    };
  },
  execute(p, ctx) {
    const connector = CONNECTORS.get(p.social_platform);
    if (!connector)
      return Promise.reject(
        unconfigured(`no connector for social platform "${p.social_platform}"`),
      );
    if (!connector.configured(ctx.config))
      return Promise.reject(
        unconfigured(`${connector.needs.join(', ')} must be set to post to ${p.social_platform}`),
      );
    return connector.post(p, ctx);
  },
};
