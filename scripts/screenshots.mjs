// Screenshots of the operator UI for the docs: `node scripts/screenshots.mjs URL`
// against a running system (npm start), desktop and phone width, into docs/.
import { chromium } from 'playwright-core';

const url = process.argv[2] ?? 'http://localhost:8000';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  for (const [name, viewport] of [['desktop', { width: 1366, height: 1000 }], ['phone', { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport });
    await page.goto(url);
    await page.getByTestId('worker-state').waitFor({ timeout: 20000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `docs/screenshot-${name}.png`, fullPage: name === 'phone' ? false : true });
    console.log(`docs/screenshot-${name}.png`);
  }
} finally {
  await browser.close();
}
