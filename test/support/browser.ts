import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { describe } from '@jest/globals';
import { chromium, Browser, Page } from 'playwright-core';

/**
 * Where people have Chromium or Chrome, in the order we look. playwright-core
 * never downloads a browser; `npx playwright install` can't work offline, so
 * we use what the machine has.
 */
export function browserCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const list: string[] = [];
  if (env.CHROMIUM_PATH) list.push(env.CHROMIUM_PATH);
  list.push(
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
  );
  const cache = playwrightCache(env);
  try {
    // The layouts of playwright-core's registry (1.5x+ and older), newest revision first.
    for (const d of readdirSync(cache).sort().reverse()) {
      if (d.startsWith('chromium_headless_shell-'))
        list.push(
          join(cache, d, 'chrome-headless-shell-linux64', 'chrome-headless-shell'),
          join(cache, d, 'chrome-linux', 'headless_shell'),
        );
      else if (d.startsWith('chromium-'))
        list.push(
          join(cache, d, 'chrome-linux64', 'chrome'),
          join(cache, d, 'chrome-linux', 'chrome'),
          join(
            cache,
            d,
            'chrome-mac-arm64',
            'Google Chrome for Testing.app',
            'Contents',
            'MacOS',
            'Google Chrome for Testing',
          ),
          join(cache, d, 'chrome-mac', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'),
        );
    }
  } catch {
    // no Playwright cache
  }
  list.push(
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
  );
  return list;
}

/** Where playwright-core keeps its browsers (PLAYWRIGHT_BROWSERS_PATH, XDG_CACHE_HOME, macOS Caches). */
export function playwrightCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PLAYWRIGHT_BROWSERS_PATH) return env.PLAYWRIGHT_BROWSERS_PATH;
  if (platform() === 'darwin') return join(homedir(), 'Library', 'Caches', 'ms-playwright');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ms-playwright');
}

export type BrowserLookup = Readonly<{ path?: string; searched: string[]; problem?: string }>;

const executable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The first executable candidate; a CHROMIUM_PATH that is set but not executable is a problem, not a fallback. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): BrowserLookup {
  const searched = browserCandidates(env);
  if (env.CHROMIUM_PATH && !executable(env.CHROMIUM_PATH))
    return { searched, problem: `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file` };
  return { path: searched.find(executable), searched };
}

const found = findBrowser();

/**
 * `describe` for tests that need a browser. Without one they are skipped with
 * one line saying what was looked for and how to get one, so `npm test` stays
 * green on a fresh machine; CI sets AOL_REQUIRE_BROWSER=1, which turns a
 * missing browser into a failure instead of a silent skip.
 */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (found.problem) throw new Error(`${found.problem}: fix or unset it to run the UI tests`);
  if (found.path) return describe(name, fn);
  const why =
    `no Chromium or Chrome found (looked at CHROMIUM_PATH${process.env.CHROMIUM_PATH ? '' : ' (unset)'}, ` +
    `the Playwright cache (${playwrightCache()}) and ${found.searched.join(', ')}); ` +
    'install one (Debian/Ubuntu: apt-get install chromium; macOS: Google Chrome) or set CHROMIUM_PATH';
  if (process.env.AOL_REQUIRE_BROWSER === '1') throw new Error(`AOL_REQUIRE_BROWSER=1 but ${why}`);
  process.stderr.write(`\n[test] UI tests skipped: ${why}\n`);
  describe.skip(name, fn);
}

/** The browser found above, headless, driven by playwright-core. */
export async function launchBrowser(): Promise<Browser> {
  if (!found.path) throw new Error('no browser: use describeWithBrowser');
  return chromium.launch({
    executablePath: found.path,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** Console errors and uncaught exceptions of a page, collected for an assertion. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}
