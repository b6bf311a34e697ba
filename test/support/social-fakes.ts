import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { freePort } from '../../src/db/embedded.js';

export type Reply = { status: number; body: unknown; headers?: Record<string, string> };
export type Seen = {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
};

/**
 * A small JSON HTTP server for the platform fakes: records each request,
 * answers an injected reply first when one is queued for the path, and can
 * hold a reply (after its effect is applied) to let a test kill the caller
 * mid-request.
 */
abstract class JsonFake {
  readonly seen: Seen[] = [];
  /** Replies to give instead of the normal answer, by path, first in first out. */
  readonly inject = new Map<string, Reply[]>();
  /** Hold the normal answer on this path for so long, once its effect is done. */
  hold: { path: string; ms: number } | undefined;
  url = '';
  private server: Server | undefined;

  protected abstract answer(
    path: string,
    q: URLSearchParams,
    req: IncomingMessage,
    body: unknown,
  ): Reply;

  async start(): Promise<this> {
    const port = await freePort();
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      req.on('end', () => {
        const u = new URL(req.url!, 'http://fake');
        this.seen.push({ method: req.method!, path: u.pathname, headers: req.headers, body: raw });
        const queued = this.inject.get(u.pathname)?.shift();
        if (queued) return send(res, queued);
        let body: unknown = null;
        try {
          body = raw ? JSON.parse(raw) : null;
        } catch {
          return send(res, { status: 400, body: { error: 'InvalidRequest', message: 'bad JSON' } });
        }
        const reply = this.answer(u.pathname, u.searchParams, req, body);
        if (this.hold?.path === u.pathname)
          setTimeout(() => send(res, reply), this.hold.ms).unref();
        else send(res, reply);
      });
    });
    this.server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  requests(path: string): Seen[] {
    return this.seen.filter((s) => s.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

function send(res: ServerResponse, r: Reply) {
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...r.headers });
  res.end(JSON.stringify(r.body));
}

/**
 * Mastodon as docs.joinmastodon.org documents POST /api/v1/statuses: a Bearer
 * token, a Status entity back, an Idempotency-Key remembered (for an hour
 * there) so a repeat returns the status already made; errors as
 * `{"error": "..."}`: 401 bad token, 422 validation, 429 with X-RateLimit-*.
 */
export class FakeMastodon extends JsonFake {
  readonly statuses: { id: string; text: string; key: string | undefined }[] = [];
  private readonly byKey = new Map<string, { id: string; url: string; content: string }>();

  constructor(readonly token: string) {
    super();
  }

  static rateLimited(): Reply {
    return {
      status: 429,
      body: { error: 'Too many requests' },
      headers: {
        'X-RateLimit-Limit': '300',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': new Date(Date.now() + 60_000).toISOString(),
      },
    };
  }

  protected answer(path: string, _q: URLSearchParams, req: IncomingMessage, body: unknown): Reply {
    if (path !== '/api/v1/statuses' || req.method !== 'POST')
      return { status: 404, body: { error: 'Record not found' } };
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return { status: 401, body: { error: 'The access token is invalid' } };
    const text = (body as { status?: unknown })?.status;
    if (typeof text !== 'string' || text.trim() === '')
      return { status: 422, body: { error: "Validation failed: Text can't be blank" } };
    if (text.length > 500)
      return {
        status: 422,
        body: { error: 'Validation failed: Text character limit of 500 exceeded' },
      };
    const key = req.headers['idempotency-key'] as string | undefined;
    const prior = key ? this.byKey.get(key) : undefined;
    if (prior) return { status: 200, body: prior };
    const id = String(100 + this.statuses.length);
    const status = { id, url: `${this.url}/@aol/${id}`, content: `<p>${text}</p>` };
    this.statuses.push({ id, text, key });
    if (key) this.byKey.set(key, status);
    return { status: 200, body: status };
  }
}

const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;

/**
 * A Bluesky PDS as the atproto lexicons document createSession, createRecord
 * and getRecord: XRPC errors `{"error","message"}`; a session's accessJwt
 * that `expireSessions` has expired answers ExpiredToken; a post's rkey must be
 * a TID; a second create under an existing rkey is refused (400
 * InvalidRequest), never a second record.
 */
export class FakeBluesky extends JsonFake {
  readonly records = new Map<string, { text: string; createdAt: string }>();
  sessionsCreated = 0;
  expiredStatus = 400;
  private readonly live = new Set<string>();
  private readonly expired = new Set<string>();
  readonly did = 'did:plc:aolfake0000000000000000';

  constructor(
    readonly handle: string,
    readonly password: string,
  ) {
    super();
  }

  expireSessions(): void {
    for (const t of this.live) this.expired.add(t);
    this.live.clear();
  }

  static rateLimited(): Reply {
    return {
      status: 429,
      body: { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' },
      headers: {
        'ratelimit-limit': '5000',
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60),
        'ratelimit-policy': '5000;w=3600',
      },
    };
  }

  private uri(rkey: string) {
    return `at://${this.did}/app.bsky.feed.post/${rkey}`;
  }

  protected answer(path: string, q: URLSearchParams, req: IncomingMessage, body: unknown): Reply {
    const bad = (message: string, error = 'InvalidRequest', status = 400): Reply => ({
      status,
      body: { error, message },
    });
    const b = (body ?? {}) as Record<string, unknown>;
    switch (path) {
      case '/xrpc/com.atproto.server.createSession': {
        if (b.identifier !== this.handle || b.password !== this.password)
          return bad('Invalid identifier or password', 'AuthenticationRequired', 401);
        const accessJwt = `access-${++this.sessionsCreated}`;
        this.live.add(accessJwt);
        return {
          status: 200,
          body: {
            did: this.did,
            handle: this.handle,
            accessJwt,
            refreshJwt: `refresh-${this.sessionsCreated}`,
            active: true,
          },
        };
      }
      case '/xrpc/com.atproto.repo.createRecord': {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        if (this.expired.has(token))
          return bad('Token has expired', 'ExpiredToken', this.expiredStatus);
        if (!this.live.has(token)) return bad('Token could not be verified', 'InvalidToken', 401);
        if (b.repo !== this.handle && b.repo !== this.did) return bad('Could not find repo');
        const rec = (b.record ?? {}) as Record<string, unknown>;
        if (b.collection !== 'app.bsky.feed.post' || rec.$type !== 'app.bsky.feed.post')
          return bad('Invalid collection or $type');
        if (typeof rec.text !== 'string' || typeof rec.createdAt !== 'string')
          return bad('Invalid app.bsky.feed.post record: Record must have the property "text"');
        if (
          [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(rec.text)].length > 300
        )
          return bad(
            'Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes',
          );
        const rkey = typeof b.rkey === 'string' ? b.rkey : undefined;
        if (!rkey || !TID.test(rkey)) return bad('Invalid record key: must be a TID');
        if (this.records.has(rkey)) return bad(`Record already exists: ${this.uri(rkey)}`);
        this.records.set(rkey, { text: rec.text, createdAt: rec.createdAt });
        return { status: 200, body: { uri: this.uri(rkey), cid: `bafyfake${rkey}` } };
      }
      case '/xrpc/com.atproto.repo.getRecord': {
        const rkey = q.get('rkey') ?? '';
        const r = this.records.get(rkey);
        if (!r) return bad(`Could not locate record: ${this.uri(rkey)}`, 'RecordNotFound');
        return {
          status: 200,
          body: {
            uri: this.uri(rkey),
            cid: `bafyfake${rkey}`,
            value: { $type: 'app.bsky.feed.post', ...r },
          },
        };
      }
      default:
        return bad('Method Not Implemented', 'MethodNotImplemented', 501);
    }
  }
}
