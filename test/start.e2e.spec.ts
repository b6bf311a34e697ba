import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, existsSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { waitFor } from './support/db.js';
import { ROOT, spawnNode } from './support/processes.js';

describe('npm start with no DATABASE_URL', () => {
  it('starts an embedded PostgreSQL under ./.aol, migrates, serves /health with 200, and stops cleanly', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'aol-start-'));
    chmodSync(cwd, 0o755);
    const port = await freePort();
    const proc = spawnNode(join(ROOT, 'dist', 'start.js'), [], { PORT: String(port) }, cwd);
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
    } finally {
      expect(await proc.stop('SIGTERM')).toBe(0);
    }
  }, 120000);
});
