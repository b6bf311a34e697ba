import { createHash } from 'node:crypto';
import { ActionError } from '../action-error.js';
import { ExecutionResult } from '../action-handler.js';
import {
  JsonReply,
  PostContext,
  REDACTED,
  replyError,
  requestJson,
  SocialConnector,
  SocialPost,
} from './social-connector.js';

const COLLECTION = 'app.bsky.feed.post';
const MAX_GRAPHEMES = 300; // app.bsky.feed.post#text maxGraphemes
const B32 = '234567abcdefghijklmnopqrstuvwxyz'; // base32-sortable, as TIDs use

/**
 * The record key for an idempotency key: a syntactically valid TID (13
 * base32-sortable characters of a 63-bit number, which the app view requires
 * of post keys) taken from the key's SHA-256. The same key always names the
 * same record, so a repeated create can only collide with the first, never
 * add a second post. Its bits carry no time: feeds sort posts by createdAt.
 */
export function rkeyFor(idempotencyKey: string): string {
  const h = createHash('sha256').update(idempotencyKey).digest();
  let v = h.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = B32[Number(v & 31n)] + out;
    v >>= 5n;
  }
  return out;
}

type Session = { accessJwt: string; did: string };
/** Sessions by service and handle: createSession is rate-limited (30 per 5 min), so reuse one until it expires. */
const sessions = new Map<string, Session>();

function requests(p: SocialPost, ctx: PostContext, password: string, jwt: string) {
  const svc = (ctx.config.blueskyServiceUrl ?? '').replace(/\/+$/, '');
  const handle = ctx.config.blueskyHandle ?? '';
  const rkey = rkeyFor(ctx.idempotencyKey);
  return {
    rkey,
    createSession: {
      method: 'POST',
      url: `${svc}/xrpc/com.atproto.server.createSession`,
      headers: {},
      body: { identifier: handle, password },
    },
    createRecord: {
      method: 'POST',
      url: `${svc}/xrpc/com.atproto.repo.createRecord`,
      headers: { Authorization: `Bearer ${jwt}` },
      body: {
        repo: handle,
        collection: COLLECTION,
        rkey,
        record: { $type: COLLECTION, text: p.content, createdAt: new Date().toISOString() },
      },
    },
    getRecord: {
      method: 'GET',
      url: `${svc}/xrpc/com.atproto.repo.getRecord?${new URLSearchParams({ repo: handle, collection: COLLECTION, rkey })}`,
      headers: {},
    },
  };
}

const xrpcError = (r: JsonReply) => (r.body as { error?: unknown } | null)?.error;
const ok = (r: JsonReply) => r.status >= 200 && r.status < 300;

/**
 * Bluesky: `com.atproto.server.createSession` (handle + app password), then
 * `com.atproto.repo.createRecord` of an `app.bsky.feed.post` under a record key
 * derived from the idempotency key (Bluesky has no Idempotency-Key). When the
 * create fails other than by rate limit or auth — a repeat of a create that
 * landed before its worker died is refused — getRecord on that key decides:
 * the post exists (success, posted once) or not (the create's error stands).
 * XRPC errors are `{"error","message"}`: ExpiredToken/InvalidToken (401, some
 * PDSes 400) → one new session and again; 400 InvalidRequest and 401
 * AuthenticationRequired permanent; 429 RateLimitExceeded (ratelimit-reset
 * header) and 5xx transient.
 */
export const blueskyConnector: SocialConnector = {
  platform: 'bluesky',
  needs: ['BLUESKY_SERVICE_URL', 'BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'],
  validate(p) {
    const n = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(p.content)].length;
    return n > MAX_GRAPHEMES
      ? [`payload.content must be at most ${MAX_GRAPHEMES} characters for bluesky (has ${n})`]
      : [];
  },
  configured: (c) => !!c.blueskyServiceUrl && !!c.blueskyHandle && !!c.blueskyAppPassword,
  render(p, ctx) {
    const r = requests(p, ctx, REDACTED, REDACTED);
    return {
      transport: 'social',
      platform: 'bluesky',
      needs: ['BLUESKY_SERVICE_URL', 'BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'],
      requests: [r.createSession, r.createRecord],
      idempotency_key: ctx.idempotencyKey,
    };
  },
  async post(p, ctx): Promise<ExecutionResult> {
    const c = ctx.config;
    const cacheKey = `${c.blueskyServiceUrl} ${c.blueskyHandle}`;
    const login = async (): Promise<Session> => {
      const r = requests(p, ctx, c.blueskyAppPassword!, '').createSession;
      const reply = await requestJson(r.url, r, ctx.signal);
      if (!ok(reply)) throw replyError('bluesky createSession', reply, 'ratelimit-reset');
      const s = reply.body as Session;
      if (typeof s?.accessJwt !== 'string')
        throw new ActionError('transient', 'bluesky createSession: no accessJwt in reply');
      sessions.set(cacheKey, s);
      return s;
    };
    const create = async (s: Session) => {
      const r = requests(p, ctx, '', s.accessJwt).createRecord;
      return requestJson(r.url, r, ctx.signal);
    };
    let reply = await create(sessions.get(cacheKey) ?? (await login()));
    if (['ExpiredToken', 'InvalidToken'].includes(String(xrpcError(reply))))
      reply = await create(await login());
    if (ok(reply))
      return { message: `bluesky post ${(reply.body as { uri?: string }).uri ?? '?'} created` };
    if (reply.status !== 429 && reply.status !== 401) {
      const g = requests(p, ctx, '', '').getRecord;
      const found = await requestJson(g.url, g, ctx.signal);
      if (ok(found))
        return {
          message: `bluesky post ${(found.body as { uri?: string }).uri ?? '?'} already created under this key`,
        };
    }
    throw replyError('bluesky createRecord', reply, 'ratelimit-reset');
  },
};
