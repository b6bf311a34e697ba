import { Config } from '../../config/config.js';
import { ExecutionResult, HandlerContext, RenderedRequest } from '../action-handler.js';
import { ActionError, classifyHttpStatus, toActionError } from '../action-error.js';

export type SocialPost = Readonly<{ social_platform: string; content: string; audience?: string }>;

export type PostContext = HandlerContext & { signal?: AbortSignal };

/**
 * One social platform. POST_SOCIAL dispatches on `social_platform` to the
 * connector of that name (connectors.ts); adding a platform is one file
 * implementing this plus a line in that list.
 *
 * The contract that makes POST_SOCIAL idempotent towards the platform (so an
 * attempt cut off by a dead worker is retried, not left UNKNOWN): a repeat of
 * `post` with the same idempotency key must not create a second post.
 */
export interface SocialConnector {
  readonly platform: string;
  /** Platform-specific payload checks at enqueue (e.g. a length limit); messages name the field. */
  validate?(post: SocialPost): string[];
  /** Whether the credentials it needs are configured; if not, real mode fails REAL_RUN_UNCONFIGURED. */
  configured(config: Config): boolean;
  /** The variables `configured` needs, named in the REAL_RUN_UNCONFIGURED message. */
  readonly needs: readonly string[];
  /** The exact request(s) `post` sends, with every credential redacted (the proof artifact). */
  render(post: SocialPost, ctx: PostContext): RenderedRequest;
  post(post: SocialPost, ctx: PostContext & { signal: AbortSignal }): Promise<ExecutionResult>;
}

export const REDACTED = '***redacted***';

export type JsonReply = Readonly<{ status: number; body: unknown; headers: Headers }>;

/** One JSON request; network errors and aborts become transient ActionErrors. */
export async function requestJson(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: unknown },
  signal: AbortSignal,
): Promise<JsonReply> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers:
        init.body === undefined
          ? init.headers
          : { ...init.headers, 'Content-Type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal,
      redirect: 'manual',
    });
  } catch (err) {
    throw toActionError(err, signal);
  }
  const text = await res.text().catch(() => '');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text for the error message */
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * A failed reply as an ActionError, classified by status (SPEC §4: 5xx, 408,
 * 429 transient; other 4xx permanent), with the platform's own error text and,
 * on a rate limit, when it resets.
 */
export function replyError(platform: string, r: JsonReply, resetHeader: string): ActionError {
  const b = r.body as { error?: unknown; message?: unknown } | string | null;
  const detail =
    typeof b === 'object' && b !== null
      ? [b.error, b.message].filter((x) => typeof x === 'string').join(': ')
      : String(b ?? '').slice(0, 200);
  const reset = r.status === 429 ? r.headers.get(resetHeader) : null;
  const kind = classifyHttpStatus(r.status) === 'transient' ? 'transient' : 'permanent';
  return new ActionError(
    kind,
    `${platform} HTTP ${r.status}${detail ? `: ${detail}` : ''}${reset ? ` (rate limit resets at ${reset})` : ''}`,
  );
}
