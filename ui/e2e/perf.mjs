// Opens the 100,000-entry folder of the mock drive in Chromium and logs how long it takes and
// how smoothly it scrolls. Logs numbers; it checks only that few rows are in the DOM.
// Run `npm run build:mock` first.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const server = await preview({ root, preview: { port: 4174, host: '127.0.0.1', strictPort: false } });
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tuatara-perf-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1360, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = ctx.pages()[0] ?? (await ctx.newPage());
await page.goto(`${server.resolvedUrls.local[0]}?signedin&calm`);
await page.locator('[data-testid=file-row][data-name="Camera Uploads"]').waitFor();

const result = await page.evaluate(async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
  const row = document.querySelector('[data-testid=file-row][data-name="Camera Uploads"]');
  const t0 = performance.now();
  row.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
  while (!document.querySelector('[data-testid=file-row][data-name^="IMG_"]')) await frame();
  const shown = (await frame()) - t0;
  const status = document.querySelector('.status')?.textContent ?? '';
  const list = document.querySelector('[data-testid=file-list]');
  const rows = document.querySelectorAll('[data-testid=file-row]').length;
  async function scroll(step) {
    const gaps = [];
    let last = await frame();
    for (let i = 0; i < 120; i++) {
      list.scrollTop += step;
      const now = await frame();
      gaps.push(now - last);
      last = now;
    }
    gaps.sort((a, b) => a - b);
    return { step, median: gaps[60], p95: gaps[114], worst: gaps[119] };
  }
  const scrolls = [await scroll(120), await scroll(1500)];
  return { shown, status, rows, rowsAfter: document.querySelectorAll('[data-testid=file-row]').length, scrolls };
});

console.log(`100,000-entry folder on screen in ${Math.round(result.shown)} ms from the double-click (mock latency ~120 ms included); status: ${result.status.trim().replace(/\s+/g, ' ')}`);
console.log(`rows in the DOM: ${result.rows} (after scrolling: ${result.rowsAfter})`);
for (const s of result.scrolls) {
  console.log(`scrolling 120 frames of ${s.step} px: frame gap median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, worst ${s.worst.toFixed(1)} ms`);
}
await ctx.close();
await server.close();
if (result.rows > 80 || result.rowsAfter > 80) {
  console.error('too many rows in the DOM: the list is not virtualised');
  process.exit(1);
}
