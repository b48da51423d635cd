// Screenshots of every screen against `vite preview` with the mock backend, light and dark.
// Run `npm run build:mock` first; PNGs land in target-shots/. Uses Debian's /usr/bin/chromium.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'target-shots');
mkdirSync(out, { recursive: true });

const server = await preview({ root, preview: { port: 4173, host: '127.0.0.1', strictPort: false } });
const base = server.resolvedUrls.local[0];
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tuatara-shots-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1360, height: 860 },
  deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = ctx.pages()[0] ?? (await ctx.newPage());
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

const LINKS = [
  'Links from the forum:',
  'https://mega.nz/file/AbCdEfGh#' + 'k'.repeat(43),
  'https://mega.nz/folder/FoLdEr12#' + 'f'.repeat(22),
  'https://mega.nz/#P!AgAAAAAAAAPTinyProtectedLinkXyz',
  'https://mega.nz/file/GoneGone#' + 'g'.repeat(43),
  'https://mega.nz/file/NoKey123',
].join('\n');

async function open(query, scheme) {
  await page.emulateMedia({ colorScheme: scheme });
  await page.evaluate(() => localStorage.clear()).catch(() => {});
  await page.goto(`${base}${query}`);
}

async function shot(name) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`wrote ${name}.png`);
}

async function openFolder(name) {
  await page.locator(`[data-testid=file-row][data-name="${name}"]`).dblclick();
  await page.locator('[data-testid=crumb]', { hasText: name }).waitFor();
}

for (const scheme of ['light', 'dark']) {
  const s = (n) => `${n}-${scheme}`;

  await open('?calm', scheme);
  await page.getByTestId('login-email').waitFor();
  await page.getByTestId('login-email').fill('you@example.com');
  await shot(s('login'));
  await page.getByTestId('login-password').fill('tuatara-demo');
  await page.getByTestId('login-submit').click();
  await page.waitForTimeout(300);
  await shot(s('login-verifying'));

  await open('?signedin', scheme);
  await page.getByTestId('file-row').first().waitFor();
  await page.locator('[data-testid=transfers-panel] .title').click();
  await openFolder('Photos');
  await openFolder('2024');
  await page.waitForTimeout(900);
  await page.locator('[data-testid=file-row]').nth(2).click();
  await page.locator('[data-testid=file-row]').nth(5).click({ modifiers: ['Shift'] });
  await shot(s('drive-thumbnails'));

  await page.getByTestId('breadcrumb').locator('[data-testid=crumb]').first().click();
  await openFolder('Documents');
  await page.locator('[data-testid=file-row][data-name="report.pdf"]').first().click({ button: 'right' });
  await shot(s('drive-context-menu'));
  await page.keyboard.press('Escape');

  await page.getByTestId('sidebar-cloud').click();
  await openFolder('Camera Uploads');
  await page.getByTestId('file-list').evaluate((el) => (el.scrollTop = 34 * 40000));
  await page.waitForTimeout(900);
  await shot(s('drive-100k'));

  // a file dragged over the Photos folder row (the mock maps HTML drag events to OS ones)
  await page.getByTestId('sidebar-cloud').click();
  await page.locator('[data-testid=file-row][data-name="Photos"]').waitFor();
  await page.evaluate(() => {
    const rowEl = document.querySelector('[data-testid=file-row][data-name="Photos"]');
    const r = rowEl.getBoundingClientRect();
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'tekapo.jpg', { type: 'image/jpeg' }));
    dt.items.add(new File(['y'], 'notes.md', { type: 'text/markdown' }));
    const at = { bubbles: true, cancelable: true, dataTransfer: dt, clientX: r.left + 120, clientY: r.top + r.height / 2 };
    rowEl.dispatchEvent(new DragEvent('dragenter', at));
    rowEl.dispatchEvent(new DragEvent('dragover', at));
  });
  await page.getByTestId('drop-overlay').waitFor();
  await shot(s('drop-onto-folder'));
  await page.evaluate(() => window.dispatchEvent(new DragEvent('dragleave', { bubbles: true })));

  await page.locator('[data-testid=transfers-panel] .title').click();
  await page.waitForTimeout(1500);
  await shot(s('transfers'));

  await open('?signedin&quota=720', scheme);
  await page.getByTestId('quota-banner').waitFor();
  await page.waitForTimeout(1200);
  await shot(s('quota-banner'));

  await open(`?signedin&calm&links=${encodeURIComponent(LINKS)}`, scheme);
  await page.locator('[data-testid=link-row]').first().waitFor({ timeout: 10000 });
  await page.waitForTimeout(300);
  await shot(s('links'));
  await page.getByTestId('link-browse').click();
  await page.getByTestId('folder-link-browser').waitFor();
  await shot(s('links-folder'));

  await open('?signedin&calm', scheme);
  await page.getByTestId('open-settings').click();
  await page.getByTestId('settings-save').waitFor();
  await shot(s('settings'));
  await page.getByTestId('open-watches').click();
  await page.getByTestId('watch-row').first().waitFor();
  await shot(s('watches'));
}

await ctx.close();
await server.close();
if (errors.length) {
  console.error(`page errors:\n${errors.join('\n')}`);
  process.exit(1);
}
