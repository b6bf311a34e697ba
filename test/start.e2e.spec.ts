import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, existsSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { waitFor } from './support/db.js';
import { ROOT, spawnNode } from './support/processes.js';
import { leaseAfterStop } from './support/start-check.js';

describe('npm start with no DATABASE_URL', () => {
  it('starts an embedded PostgreSQL under ./.aol, migrates, serves /health with 200; Ctrl-C stops the worker (lease released), then the API, then the database', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'aol-start-'));
    chmodSync(cwd, 0o755);
    const port = await freePort();
    const proc = spawnNode(join(ROOT, 'dist', 'start.js'), [], { PORT: String(port) }, cwd, {
      detached: true,
    });
    try {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(proc.output());
          return (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
        },
        90000,
        '/health 200',
      );
      const control = await fetch(`http://127.0.0.1:${port}/control`).then((r) => r.json());
      expect(control).toMatchObject({ proof_mode: true });
      // and one worker beside the API, holding the lease
      await waitFor(
        async () =>
          (
            (await fetch(`http://127.0.0.1:${port}/lease`).then((r) => r.json())) as {
              status: string;
            }
          ).status === 'valid',
        30000,
        'the worker holds the lease',
      );
      expect(existsSync(join(cwd, '.aol', 'pg', 'PG_VERSION'))).toBe(true);
      const url = readFileSync(join(cwd, '.aol', 'database-url'), 'utf8');
      expect(proc.output()).toMatch(/listening on/);
      expect(proc.output()).not.toContain(new URL(url.trim()).password);
      // Piped output: one JSON object per line, from the API, the worker and start alike.
      const lines = proc.output().split('\n').filter(Boolean);
      const parsed = lines.map((l) => JSON.parse(l) as { name: string });
      expect(new Set(parsed.map((l) => l.name))).toEqual(new Set(['start', 'api', 'worker']));
    } finally {
      // Ctrl-C in a terminal: SIGINT to the whole foreground process group.
      if (proc.child.exitCode === null) process.kill(-proc.child.pid!, 'SIGINT');
    }
    expect([await proc.exited, proc.output().slice(-1500)]).toEqual([0, expect.anything()]);
    expect(proc.output()).toMatch(/API closed.*\n.*PostgreSQL stopped.*\n.*stopped/s);
    expect(await leaseAfterStop(join(cwd, '.aol'))).toEqual({
      leaseRows: 0,
      lastLeaseEvent: 'LeaseReleased',
    });
  }, 150000);
});
