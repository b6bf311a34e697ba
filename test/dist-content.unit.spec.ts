import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './support/processes.js';

/** The product's build (npm run build, which `npm test` runs first). */
const DIST = join(ROOT, 'dist');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('dist/ ships the product only', () => {
  it('has been built', () => {
    expect(existsSync(join(DIST, 'cli.js'))).toBe(true);
    expect(existsSync(join(DIST, 'main.js'))).toBe(true);
  });

  it('holds nothing of the test tools (chaos, smoke: tools/ builds them to dist-tools/)', () => {
    const tools = files(DIST)
      .map((f) => relative(DIST, f))
      .filter((f) => /(^|\/)(chaos|smoke)([./]|$)/.test(f));
    expect(tools).toEqual([]);
  });

  it('imports nothing from tools/ or dist-tools/', () => {
    const bad = files(DIST)
      .filter((f) => f.endsWith('.js'))
      .filter((f) => /from ['"][^'"]*(tools|dist-tools)\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(DIST, f));
    expect(bad).toEqual([]);
  });
});
