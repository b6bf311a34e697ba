import { Config } from '../../config/config.js';
import { ActionError } from '../action-error.js';
import {
  PostContext,
  REDACTED,
  replyError,
  requestJson,
  SocialConnector,
  SocialPost,
} from './social-connector.js';

function request(p: SocialPost, ctx: PostContext, token: string) {
  const base = (ctx.config.mastodonBaseUrl ?? '').replace(/\/+$/, '');
  return {
    method: 'POST',
    url: `${base}/api/v1/statuses`,
    headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': ctx.idempotencyKey },
    body: { status: p.content },
  };
}

/**
 * Mastodon: `POST /api/v1/statuses` with the action's key as `Idempotency-Key`.
 * Mastodon keeps a key for one hour and answers a repeat with the status it
 * already created, so a retry within the hour (retries back off at most
 * AOL_RETRY_MAX_SECONDS; recovery waits one lease TTL) never posts twice.
 * Errors are `{"error": "..."}`: 401/403 (bad token) and 422 (validation,
 * e.g. too long for the instance) are permanent; 429 (with X-RateLimit-Reset)
 * and 5xx are transient.
 */
export const mastodonConnector: SocialConnector = {
  platform: 'mastodon',
  needs: ['MASTODON_BASE_URL', 'MASTODON_ACCESS_TOKEN'],
  configured: (c: Config) => !!c.mastodonBaseUrl && !!c.mastodonAccessToken,
  render(p, ctx) {
    const r = request(p, ctx, REDACTED);
    return {
      transport: 'social',
      platform: 'mastodon',
      requests: [r],
      idempotency_key: ctx.idempotencyKey,
    };
  },
  async post(p, ctx) {
    const r = request(p, ctx, ctx.config.mastodonAccessToken!);
    const reply = await requestJson(r.url, r, ctx.signal);
    if (reply.status < 200 || reply.status >= 300)
      throw replyError('mastodon', reply, 'x-ratelimit-reset');
    const status = reply.body as { id?: unknown; url?: unknown } | null;
    if (!status || typeof status.id !== 'string')
      throw new ActionError('transient', `mastodon HTTP ${reply.status}: reply is not a Status`);
    return {
      message: `mastodon status ${status.id} posted${typeof status.url === 'string' ? ` (${status.url})` : ''}`,
    };
  },
};
