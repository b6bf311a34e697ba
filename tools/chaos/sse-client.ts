import http from 'node:http';

/**
 * A minimal EventSource for drills and benches: follows `/events/stream`,
 * records every `id:` (seq) it receives, and reconnects with Last-Event-ID
 * when the stream ends or fails, as a browser does.
 */
export class SseFollower {
  readonly seqs: number[] = [];
  reconnects = 0;
  private req: http.ClientRequest | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string> = {},
    private readonly after = 0,
  ) {}

  get last(): number {
    return this.seqs.at(-1) ?? this.after;
  }

  start(): void {
    if (this.stopped) return;
    const u = new URL(this.url);
    u.searchParams.set('after', String(this.after));
    const headers = { ...this.headers, 'Last-Event-ID': String(this.last) };
    this.req = http.get(u, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return this.retry();
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const m = /^id: (\d+)$/m.exec(buf.slice(0, i));
          if (m) this.seqs.push(Number(m[1]));
          buf = buf.slice(i + 2);
        }
      });
      res.on('end', () => this.retry());
      res.on('error', () => this.retry());
    });
    this.req.on('error', () => this.retry());
  }

  private retry(): void {
    if (this.stopped) return;
    this.reconnects++;
    setTimeout(() => this.start(), 250).unref();
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
  }

  /** First problem in what was received (a gap, a repeat, out of order) from `after` on, or null. */
  problem(): string | null {
    let prev = this.after;
    for (const s of this.seqs) {
      if (s !== prev + 1) return `after seq ${prev} came ${s}`;
      prev = s;
    }
    return null;
  }
}
