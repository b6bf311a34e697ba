#!/usr/bin/env node
// Compare two runs of the jest suite like for like (docs/benchmarks.md, "The test suite").
//
//   node scripts/suite-compare.mjs run <old-commit> <old-db-url> <new-db-url> [--common]
//     checks <old-commit> out into a temporary worktree (its own `npm ci`), builds it and this
//     tree, runs both full suites AT THE SAME TIME (equal load) with `--json`, each on its own
//     PostgreSQL, compares them, and removes the worktree. With --common both run only the spec
//     files the old commit has (like for like, and equal load to the end: a full run of a
//     larger suite finishes its tail alone).
//   node scripts/suite-compare.mjs compare <old.json> <new.json>
//     compares two `jest --json --outputFile` results already made.
//
// Prints: tests and wall time of each run and per test; the spec files and the tests (same file,
// same full name) that exist in both, with their summed times; the slowest files today; the
// common tests that got slower; and tests per kind (*.unit / *.int / *.e2e spec files).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function load(file) {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  const files = new Map();
  for (const r of j.testResults) {
    // run tests (skipped ones left out) by full name; `n` counts two tests of one name twice
    const tests = new Map();
    let n = 0;
    for (const a of r.assertionResults)
      if (a.status === 'passed' || a.status === 'failed') {
        tests.set(a.fullName, { ms: a.duration ?? 0, status: a.status });
        n++;
      }
    files.set(basename(r.name), {
      ms: (r.perfStats?.end ?? r.endTime) - (r.perfStats?.start ?? r.startTime),
      tests,
      n,
      failed: r.numFailingTests ?? 0,
    });
  }
  const end = Math.max(...j.testResults.map((r) => r.perfStats?.end ?? r.endTime));
  const tests = [...files.values()].reduce((n, f) => n + f.n, 0);
  return { files, tests, wall: end - j.startTime, ok: j.success, failed: j.numFailedTests };
}

const kind = (f) => (/\.unit\.spec/.test(f) ? 'unit' : /\.int\.spec/.test(f) ? 'int' : 'e2e');
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

export function compare(oldFile, newFile) {
  const o = load(oldFile);
  const n = load(newFile);
  const out = [];
  for (const [name, r] of [
    ['old', o],
    ['new', n],
  ])
    out.push(
      `${name}: ${r.files.size} files, ${r.tests} tests (${r.failed} failed), wall ${s(r.wall)}, ` +
        `${(r.wall / r.tests).toFixed(0)} ms of wall per test, ${s(sum([...r.files.values()].map((f) => f.ms)))} summed over files`,
    );
  const common = [...o.files.keys()].filter((f) => n.files.has(f));
  const pairs = [];
  for (const f of common)
    for (const [t, a] of o.files.get(f).tests) {
      const b = n.files.get(f).tests.get(t);
      if (b) pairs.push({ f, t, old: a.ms, new: b.ms });
    }
  const fileOld = sum(common.map((f) => o.files.get(f).ms));
  const fileNew = sum(common.map((f) => n.files.get(f).ms));
  out.push(
    `\ncommon: ${common.length} spec files (old ${s(fileOld)}, new ${s(fileNew)} summed file time); ` +
      `${pairs.length} tests with the same name in both (old ${s(sum(pairs.map((p) => p.old)))}, new ${s(sum(pairs.map((p) => p.new)))} summed test time)`,
  );
  out.push('\nper common file (old → new):');
  for (const f of common.sort((a, b) => n.files.get(b).ms - n.files.get(a).ms))
    out.push(
      `  ${f.padEnd(36)} ${s(o.files.get(f).ms).padStart(8)} → ${s(n.files.get(f).ms).padStart(8)}  ` +
        `(${o.files.get(f).n} → ${n.files.get(f).n} tests)`,
    );
  out.push('\nslowest files now:');
  for (const [f, r] of [...n.files].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10))
    out.push(`  ${f.padEnd(36)} ${s(r.ms).padStart(8)}  ${r.n} tests`);
  out.push('\ncommon tests more than 1 s and 50 % slower now:');
  const slower = pairs
    .filter((p) => p.new - p.old > 1000 && p.new > p.old * 1.5)
    .sort((a, b) => b.new - b.old - (a.new - a.old));
  for (const p of slower) out.push(`  ${s(p.old)} → ${s(p.new)}  ${p.f}: ${p.t}`);
  if (slower.length === 0) out.push('  none');
  out.push('\ntests per kind (file name):');
  for (const [name, r] of [
    ['old', o],
    ['new', n],
  ]) {
    const c = { unit: 0, int: 0, e2e: 0 };
    const files = { unit: 0, int: 0, e2e: 0 };
    for (const [f, x] of r.files) {
      c[kind(f)] += x.n;
      files[kind(f)]++;
    }
    out.push(
      `  ${name}: unit ${c.unit} (${files.unit} files), int ${c.int} (${files.int} files), e2e ${c.e2e} (${files.e2e} files)`,
    );
  }
  return out.join('\n');
}

function jest(dir, db, json, files) {
  return new Promise((done, fail) => {
    const p = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        'node_modules/jest/bin/jest.js',
        '--json',
        `--outputFile=${json}`,
        ...(files.length ? ['--runTestsByPath', ...files] : []),
      ],
      {
        cwd: dir,
        env: { ...process.env, TEST_DATABASE_URL: db },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    p.on('error', fail);
    p.on('exit', () => done());
  });
}

async function run(oldCommit, oldDb, newDb, common) {
  const tmp = mkdtempSync(join(tmpdir(), 'aol-suite-compare-'));
  const old = join(tmp, 'old');
  const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });
  sh('git', ['worktree', 'add', '--detach', old, oldCommit], root);
  try {
    sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], old);
    sh('npm', ['run', 'build', '--silent'], old);
    // the old tree may predate tools/ (build:tools): run it when it exists
    if (JSON.parse(readFileSync(join(old, 'package.json'), 'utf8')).scripts['build:tools'])
      sh('npm', ['run', 'build:tools', '--silent'], old);
    sh('npm', ['run', 'build', '--silent'], root);
    sh('npm', ['run', 'build:tools', '--silent'], root);
    const [oj, nj] = [join(tmp, 'old.json'), join(tmp, 'new.json')];
    const files = common
      ? execFileSync('git', ['ls-tree', '--name-only', oldCommit, 'test/'], { cwd: root })
          .toString()
          .split('\n')
          .filter((f) => f.endsWith('.spec.ts'))
      : [];
    await Promise.all([jest(old, oldDb, oj, files), jest(root, newDb, nj, files)]);
    console.log(compare(oj, nj));
    console.log(`\n(results kept: ${oj} ${nj})`);
  } finally {
    sh('git', ['worktree', 'remove', '--force', old], root);
  }
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'compare' && args.length === 2) console.log(compare(args[0], args[1]));
else if (cmd === 'run' && (args.length === 3 || (args.length === 4 && args[3] === '--common')))
  await run(args[0], args[1], args[2], args.length === 4);
else {
  console.error(
    'usage: suite-compare.mjs compare <old.json> <new.json>\n' +
      '       suite-compare.mjs run <old-commit> <old-db-url> <new-db-url> [--common]',
  );
  process.exit(64);
}
