import { lookup as dnsLookup } from 'node:dns';
import { promises as dnsPromises } from 'node:dns';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { Agent, fetch } from 'undici';
import { ActionHandler } from '../action-handler.js';
import { ActionError, classifyHttpStatus, toActionError } from '../action-error.js';
import { PayloadReader, result } from '../payload.js';
import {
  isSecretRef,
  resolveSecret,
  scrubSecrets,
  SecretRef,
  secretRefProblem,
} from '../secrets.js';
import { guardedLookup, LookupFn, refuseTarget, ssrfError, targetHost } from '../outbound.js';

type HeaderValue = string | SecretRef;
type Webhook = {
  url: string;
  method: string;
  headers: Record<string, HeaderValue>;
  body?: unknown;
};

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** RFC 9110 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** A header value: visible ASCII, spaces and tabs, no CR, LF or NUL (no header injection). */
const VALUE = /^[\t\x20-\x7e]{0,8000}$/;
/** Set by the transport or by us; a payload may not set them. */
const MANAGED = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
];
/** Longest receiver body kept for the execution log (operators), never in last_error. */
export const RESPONSE_EXCERPT_CHARS = 500;

function validateHeaders(
  r: PayloadReader,
  credential: readonly string[],
): Record<string, HeaderValue> {
  const raw = r.raw('headers');
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    r.errors.push('payload.headers must be an object of header names to values');
    return {};
  }
  const out: Record<string, HeaderValue> = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const field = `payload.headers.${name}`;
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) r.errors.push(`payload.headers: "${name}" is not a valid header name`);
    else if (MANAGED.includes(lower))
      r.errors.push(`${field} is set by the transport and may not be given`);
    else if (isSecretRef(v)) {
      const problem = secretRefProblem(v, field);
      if (problem) r.errors.push(problem);
    } else if (typeof v !== 'string') {
      r.errors.push(`${field} must be a string or a secret reference {"$secret": "NAME"}`);
    } else if (!VALUE.test(v)) {
      r.errors.push(`${field} must not contain CR, LF or other control characters`);
    } else if (credential.includes(lower)) {
      r.errors.push(
        `${field} is a credential: give it by reference, e.g. {"${name}": {"$secret": "PARTNER_TOKEN"}} with AOL_SECRET_PARTNER_TOKEN set for the worker; a literal value would stay in the event log forever`,
      );
    }
    out[name] = v as HeaderValue;
  }
  return out;
}

/**
 * The request: the payload's headers (references resolved by `value`), minus
 * any Idempotency-Key the caller gave in any letter case, plus ours.
 */
function buildRequest(p: Webhook, idempotencyKey: string, value: (h: HeaderValue) => string) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.headers))
    if (k.toLowerCase() !== 'idempotency-key') headers[k] = value(v);
  headers['Idempotency-Key'] = idempotencyKey;
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
 * string as is. It always carries `Idempotency-Key: <the action's key>`
 * (replacing one the payload gives), so a receiver can drop a repeat: this is
 * why the webhook counts as idempotent and is retried (not marked UNKNOWN)
 * after a worker died mid-request. Credentials travel as secret references,
 * resolved only here, at execution; the proof artifact shows the reference.
 */
export const httpWebhookHandler: ActionHandler<Webhook> = {
  type: 'HTTP_WEBHOOK',
  idempotent: true,
  validate(payload, ctx) {
    const r = new PayloadReader(payload, ['url', 'method', 'headers', 'body']);
    const url = r.str('url', {
      pattern: /^https?:\/\/\S+$/i,
      patternMessage: 'payload.url must be an http(s) URL',
      max: 2000,
    });
    let host: string | undefined;
    try {
      if (url) host = targetHost(url);
    } catch {
      r.errors.push('payload.url must be an http(s) URL');
    }
    if (host && isIP(host)) {
      const why = refuseTarget(host, [host], outboundPolicy(ctx.config));
      if (why) r.errors.push(why);
    }
    const method = (r.str('method', { required: false }) ?? 'POST').toUpperCase();
    if (!METHODS.includes(method))
      r.errors.push(`payload.method must be one of ${METHODS.join(', ')}`);
    const headers = validateHeaders(r, ctx.config.credentialHeaders);
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
  async preflight(p, ctx) {
    const host = targetHost(p.url);
    const policy = outboundPolicy(ctx.config);
    if (isIP(host) || !policy.production || policy.allowHosts.includes(host)) return;
    const resolved = await dnsPromises.lookup(host, { all: true }).catch(() => []);
    const why = refuseTarget(
      host,
      resolved.map((a) => a.address),
      policy,
    );
    if (why) return why;
  },
  render(p, ctx) {
    // references stay references: the artifact shows {"$secret": "NAME"}, never the value
    const req = buildRequest(p, ctx.idempotencyKey, (v) =>
      typeof v === 'string' ? v : JSON.stringify(v),
    );
    return { transport: 'http', ...req };
  },
  async execute(p, ctx) {
    const secrets = ctx.config.secrets;
    const used: string[] = [];
    const req = buildRequest(p, ctx.idempotencyKey, (v) => {
      if (typeof v === 'string') return v;
      const s = resolveSecret(v, secrets);
      used.push(s);
      return s;
    });
    const policy = outboundPolicy(ctx.config);
    const host = targetHost(req.url);
    const literal = isIP(host) ? refuseTarget(host, [host], policy) : undefined;
    if (literal) throw new ActionError('permanent', literal);
    const agent = new Agent({
      connect: { lookup: guardedLookup(ctx.lookup ?? (dnsLookup as LookupFn), policy) },
    });
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: ctx.signal,
        redirect: 'manual',
        dispatcher: agent,
      });
      const text = await res.text().catch(() => '');
      const outcome = classifyHttpStatus(res.status);
      if (outcome === 'ok') return { message: `HTTP ${res.status} from ${host}` };
      // last_error: the status and its reason phrase; the body, capped and scrubbed, is for the execution log
      const excerpt = scrubSecrets(text.slice(0, RESPONSE_EXCERPT_CHARS), used).trim();
      throw new ActionError(
        outcome,
        `HTTP ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trim(),
        excerpt || undefined,
      );
    } catch (err) {
      if (err instanceof ActionError) throw err;
      throw ssrfError(err) ?? toActionError(err, ctx.signal);
    } finally {
      void agent.close();
    }
  },
};

function outboundPolicy(config: { production: boolean; webhookAllowHosts: readonly string[] }) {
  return { production: config.production, allowHosts: config.webhookAllowHosts };
}
