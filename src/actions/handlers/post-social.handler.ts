import { ActionHandler } from '../action-handler.js';
import { unconfigured } from '../action-error.js';
import { PayloadReader, result } from '../payload.js';

type SocialPost = { social_platform: string; content: string; audience?: string };

/**
 * POST_SOCIAL: a post on a social platform. No platform connector is
 * configured in this deployment, so real mode fails with
 * REAL_RUN_UNCONFIGURED; proof mode stores the post that would be made.
 */
export const postSocialHandler: ActionHandler<SocialPost> = {
  type: 'POST_SOCIAL',
  idempotent: false,
  validate(payload) {
    const r = new PayloadReader(payload, ['social_platform', 'content', 'audience']);
    const platform = r.str('social_platform', {
      max: 40,
      pattern: /^[a-z][a-z0-9_-]*$/i,
      patternMessage: 'payload.social_platform must be a platform name such as linkedin',
    });
    const content = r.str('content', { max: 10_000 });
    const audience = r.str('audience', { required: false, max: 500 });
    return result(r, () => ({
      social_platform: platform!.toLowerCase(),
      content: content!,
      ...(audience ? { audience } : {}),
    }));
  },
  render(p, ctx) {
    return {
      transport: 'social',
      platform: p.social_platform,
      post: { content: p.content, audience: p.audience ?? null },
      idempotency_key: ctx.idempotencyKey,
    };
  },
  execute(p) {
    return Promise.reject(
      unconfigured(`no connector configured for social platform "${p.social_platform}"`),
    );
  },
};
