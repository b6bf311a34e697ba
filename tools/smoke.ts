#!/usr/bin/env node
import { Command } from 'commander';

/**
 * `npm run smoke -- --url URL [--token T]`: the runbook's on-deploy checklist
 * against a running deployment. Leaves the flags as it found them.
 */
type Check = { name: string; ok: boolean; detail: string };

async function main(): Promise<number> {
  const o = new Command('smoke')
    .requiredOption('--url <url>', 'the deployment, e.g. https://aol.example.com')
    .option('--token <token>', 'an operator (or admin) API token')
    .option('--timeout <seconds>', 'how long to wait for the worker and acknowledgements', '60')
    .parse(process.argv)
    .opts<{ url: string; token?: string; timeout: string }>();
  const base = o.url.replace(/\/+$/, '');
  const timeoutMs = Number(o.timeout) * 1000;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-aol-client': 'smoke',
  };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    return {
      status: r.status,
      body: (await r.json().catch(() => null)) as Record<string, unknown> | null,
    };
  };
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      status: r.status,
      body: (await r.json().catch(() => null)) as Record<string, unknown> | null,
    };
  };
  const until = async <T>(fn: () => Promise<T | undefined>): Promise<T | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
    return undefined;
  };
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    console.log(`${ok ? '✅' : '❌'} ${name}: ${detail}`);
  };

  try {
    const h = await get('/health');
    check(
      'GET /health answers 200',
      h.status === 200 && h.body?.status === 'ok',
      `${h.status} ${JSON.stringify(h.body)}`,
    );
    const aol = await get('/health/aol');
    check(
      'GET /health/aol answers',
      aol.status === 200 && typeof aol.body?.worker_state === 'string',
      `${aol.status} worker_state=${aol.body?.worker_state}`,
    );
    const lease = await until(async () => {
      const r = await get('/health/aol');
      const l = r.body?.lease as { status: string; owner: string; epoch: number } | undefined;
      return l?.status === 'valid' ? l : undefined;
    });
    check(
      `a worker holds the lease within ${o.timeout} s`,
      !!lease,
      lease ? `${lease.owner} epoch ${lease.epoch}` : 'no valid lease',
    );
    const start = await get('/control');
    const paused = start.body?.paused === true;
    const cycle: ('pause' | 'resume')[] = paused ? ['resume', 'pause'] : ['pause', 'resume'];
    for (const step of cycle) {
      const r = await post(`/control/${step}`, { reason: 'smoke test (on-deploy checklist)' });
      const version = r.body?.version as number | undefined;
      const acked =
        r.status === 200 && version !== undefined
          ? await until(async () => {
              const c = await get('/control');
              return c.body?.acknowledged === true && (c.body.version as number) >= version
                ? c.body
                : undefined;
            })
          : undefined;
      const delay = (acked?.acknowledgment as { delay_ms?: number } | undefined)?.delay_ms;
      check(
        `${step} is acknowledged by the worker`,
        !!acked,
        acked ? `version ${version}, ${delay} ms` : `${r.status} ${JSON.stringify(r.body)}`,
      );
    }
  } catch (err) {
    check('the deployment answers', false, (err as Error).message);
  }
  const failed = checks.filter((c) => !c.ok).length;
  console.log(
    failed === 0
      ? `\nsmoke: all ${checks.length} checks passed`
      : `\nsmoke: ${failed} of ${checks.length} checks FAILED`,
  );
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
