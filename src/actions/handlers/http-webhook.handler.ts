import { ActionHandler } from '../action-handler.js';
import { ActionError, classifyHttpStatus, toActionError } from '../action-error.js';
import { PayloadReader, result } from '../payload.js';

type Webhook = { url: string; method: string; headers: Record<string, string>; body?: unknown };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const SENSITIVE = /^(authorization|proxy-authorization|cookie|x-api-key|api-key)$/i;

function buildRequest(p: Webhook, idempotencyKey: string) {
  const headers: Record<string, string> = { ...p.headers, 'Idempotency-Key': idempotencyKey };
  let body: string | undefined;
  if (typeof p.body === 'string') body = p.body;
  else if (p.body !== undefined && p.body !== null) {
    body = JSON.stringify(p.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
  }
  return { method: p.method, url: p.url, headers, body };
}

/**
 * HTTP_WEBHOOK: an HTTP request to `url`. An object body is sent as JSON, a
 * string as is. It always carries `Idempotency-Key: <the action's key>`, so a
 * receiver can drop a repeat: this is why the webhook counts as idempotent and
 * is retried (not marked UNKNOWN) after a worker died mid-request.
 */
export const httpWebhookHandler: ActionHandler<Webhook> = {
  type: 'HTTP_WEBHOOK',
  idempotent: true,
  validate(payload) {
    const r = new PayloadReader(payload, ['url', 'method', 'headers', 'body']);
    const url = r.str('url', {
      pattern: /^https?:\/\/\S+$/i,
      patternMessage: 'payload.url must be an http(s) URL',
      max: 2000,
    });
    const method = (r.str('method', { required: false }) ?? 'POST').toUpperCase();
    if (!METHODS.includes(method))
      r.errors.push(`payload.method must be one of ${METHODS.join(', ')}`);
    const headers = r.stringMap('headers') ?? {};
    const body = r.raw('body');
    if (
      body !== undefined &&
      body !== null &&
      typeof body !== 'string' &&
      typeof body !== 'object'
    ) {
      r.errors.push('payload.body must be an object (sent as JSON) or a string');
    }
    if (body !== undefined && method === 'GET')
      r.errors.push('payload.body is not allowed with method GET');
    return result(r, () => ({ url: url!, method, headers, body }));
  },
  render(p, ctx) {
    const req = buildRequest(p, ctx.idempotencyKey);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, SENSITIVE.test(k) ? '***redacted***' : v]),
    );
    return { transport: 'http', ...req, headers };
  },
  async execute(p, ctx) {
    const req = buildRequest(p, ctx.idempotencyKey);
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: ctx.signal,
        redirect: 'manual',
      });
    } catch (err) {
      throw toActionError(err, ctx.signal);
    }
    const text = (await res.text().catch(() => '')).slice(0, 200);
    const outcome = classifyHttpStatus(res.status);
    if (outcome === 'ok') return { message: `HTTP ${res.status} from ${new URL(req.url).host}` };
    throw new ActionError(outcome, `HTTP ${res.status}${text ? `: ${text}` : ''}`);
  },
};
