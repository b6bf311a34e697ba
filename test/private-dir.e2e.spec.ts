import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { waitFor } from './support/db.js';
import { ROOT, spawnNode } from './support/processes.js';
import { leaseAfterStop } from './support/start-check.js';

/**
 * As root, PostgreSQL runs as the `postgres` OS user, who cannot enter a
 * `0700` directory: a clone under root's home or `mktemp -d` used to fail
 * with EACCES at initdb. The built project is copied into such a directory
 * and started there: `npm start` (node dist/start.js) and the test suite's
 * database start (the embedded server of dist/db/embedded.js).
 */
const isRoot = process.getuid?.() === 0;
if (!isRoot)
  process.stderr.write(
    '\n[test] private-directory start skipped: it needs root (as root PostgreSQL runs as the postgres OS user, which is what it tests)\n',
  );

(isRoot ? describe : describe.skip)('a clone in a 0700 directory, as root', () => {
  const parent = mkdtempSync(join(tmpdir(), 'aol-private-')); // mkdtemp makes it 0700
  const project = join(parent, 'aol');
  // A fresh AOL_EMBEDDED_HOME, so the copy of the binaries is really made here.
  const home = mkdtempSync(join(tmpdir(), 'aol-embedded-home-'));
  chmodSync(home, 0o755);
  afterAll(() => {
    rmSync(parent, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('copies the project into the private directory', () => {
    expect(statSync(parent).mode & 0o777).toBe(0o700);
    mkdirSync(project);
    for (const part of ['package.json', 'dist', 'migrations', 'sql', 'node_modules']) {
      // Hard links where the file system allows (fast: node_modules is ~400 MB); the
      // directories are new either way, and they are what the postgres user can't enter.
      try {
        execFileSync('cp', ['-al', join(ROOT, part), join(project, part)]);
      } catch {
        cpSync(join(ROOT, part), join(project, part), { recursive: true, verbatimSymlinks: true });
      }
    }
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    expect(() =>
      execFileSync('/bin/sh', ['-c', 'cd "$1"', 'sh', project], {
        uid: id('-u'),
        gid: id('-g'),
        stdio: 'ignore',
      }),
    ).toThrow(); // really out of reach for the postgres OS user
  }, 60000);

  it('the test database starts there (embedded server, data in the private directory)', () => {
    const script = `
      const { startEmbeddedPostgres } = await import(${JSON.stringify(join(project, 'dist/db/embedded.js'))});
      const pg = (await import(${JSON.stringify(join(project, 'node_modules/pg/lib/index.js'))})).default;
      const db = await startEmbeddedPostgres(process.argv[1], { fast: true, log: (m) => console.log(m) });
      const c = new pg.Client({ connectionString: db.url('postgres') });
      await c.connect();
      const { rows } = await c.query('SELECT 1 AS one');
      await c.end();
      await db.stop();
      console.log('answered', rows[0].one);`;
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', script, join(project, '.test-db')],
      { env: { ...process.env, AOL_EMBEDDED_HOME: home }, encoding: 'utf8', timeout: 60000 },
    );
    expect(out).toMatch(/using a copy of the PostgreSQL binaries in .*pg-[\d.]+/);
    expect(out).toMatch(/keeping the PostgreSQL data for it in /);
    expect(out).toContain('answered 1');
  }, 90000);

  it('npm start answers /health 200, and Ctrl-C releases the lease before the database stops', async () => {
    const port = await freePort();
    const proc = spawnNode(
      join(project, 'dist', 'start.js'),
      [],
      { PORT: String(port), AOL_EMBEDDED_HOME: home },
      project,
      { detached: true },
    );
    try {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(proc.output());
          return (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
        },
        90000,
        '/health 200',
      );
      await waitFor(
        async () =>
          ((await (await fetch(`http://127.0.0.1:${port}/lease`)).json()) as { status: string })
            .status === 'valid',
        30000,
        'the worker holds the lease',
      );
      // one line says where the data is kept
      expect(proc.output()).toMatch(/keeping the PostgreSQL data for it in /);
    } finally {
      if (proc.child.exitCode === null) process.kill(-proc.child.pid!, 'SIGINT');
    }
    expect([await proc.exited, proc.output().slice(-1500)]).toEqual([0, expect.anything()]);
    expect(await leaseAfterStop(join(project, '.aol'), home)).toEqual({
      leaseRows: 0,
      lastLeaseEvent: 'LeaseReleased',
    });
  }, 150000);

  it('as a non-root user (nobody) in a 0700 directory of its own: npm start answers /health 200 and stops cleanly', async () => {
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }));
    const own = join(home, 'nobody'); // home is 0755: nobody can reach its own 0700 directory in it
    mkdirSync(own, { mode: 0o700 });
    for (const part of ['package.json', 'dist', 'migrations', 'sql'])
      cpSync(join(ROOT, part), join(own, 'aol', part), { recursive: true });
    execFileSync('chown', ['-R', `${uid}:${gid}`, own]);
    // The dependencies hard-linked (read-only for nobody, still owned by root: not chowned).
    execFileSync('cp', ['-al', join(project, 'node_modules'), join(own, 'aol', 'node_modules')]);
    const port = await freePort();
    const proc = spawnNode(
      join(own, 'aol', 'dist', 'start.js'),
      [],
      { PORT: String(port), HOME: own },
      join(own, 'aol'),
      { detached: true, uid, gid },
    );
    try {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(proc.output());
          return (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
        },
        90000,
        '/health 200',
      );
      expect(proc.output()).not.toMatch(/cannot reach/); // nothing to move for its own user
    } finally {
      if (proc.child.exitCode === null) process.kill(-proc.child.pid!, 'SIGINT');
    }
    expect([await proc.exited, proc.output().slice(-1500)]).toEqual([0, expect.anything()]);
  }, 150000);
});
