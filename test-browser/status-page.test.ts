/**
 * The status page in a real browser (issue 15 point 3): Debian's headless Chromium driven by
 * playwright-core loads the page of a daemon started as `npm start` starts it (--dev-csms), drives a
 * charging session with the page's sim controls, and checks that the EVSE card, the chart and the frame
 * list change. Screenshots go to test-artifacts/ (status-page.png, status-page-phone.png).
 * Run: npm run test:browser (CHROMIUM=/path/to/chromium to use another binary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { repoRoot } from '../test/support/paths.js';
import { startDaemon } from '../test/support/daemon-proc.js';

// The page's globals as far as the checks below use them (the project compiles without the DOM library).
declare const document: {
  querySelector(s: string): { textContent: string | null; getAttribute(n: string): string | null } | null;
  querySelectorAll(s: string): ArrayLike<{ textContent: string | null }>;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const text = (page: Page, selector: string): Promise<string> => page.locator(selector).first().innerText();

test('status page in headless Chromium: live card, chart and frames while a session is driven from the page', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  const dir = mkdtempSync(join(tmpdir(), 'browser-test-'));
  const artifacts = join(repoRoot(), 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const d = startDaemon(['--dev-csms', '--http-port', '0', '--state-dir', join(dir, 'state'), '--config', join(repoRoot(), 'config', 'station.example.json')]);
  // A fresh profile every run (launchPersistentContext passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 1000 },
  });
  try {
    const [, url, token] = await d.waitForLine(/status page: (http:\/\/127\.0\.0\.1:\d+\/)#token=([A-Za-z0-9_-]+)/);
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${url}#token=${token}`);
    const card = '[data-evse="1"]';
    await page.waitForFunction((sel) => document.querySelector(sel + ' [data-field="status"]')?.textContent === 'Available', card, { timeout: 30_000 });
    assert.ok(!page.url().includes('token'), 'the token leaves the address bar');
    await page.waitForFunction(() => document.querySelector('#boot')?.textContent === 'boot: Accepted', undefined, { timeout: 30_000 });
    assert.match(await text(page, '#link'), /^online ocpp/);
    const framesBefore = await page.locator('#frames tbody tr').count();
    assert.ok(framesBefore >= 2, 'BootNotification and its answer are listed');
    const pointsBefore = Number(await page.locator('#chart').getAttribute('data-points'));
    assert.equal(await page.locator('#chart canvas').count() > 0, true, 'uPlot drew a canvas');
    assert.equal(await page.locator(`${card} .controls`).isVisible(), true, 'the sim controls are shown with the token');

    await page.click(`${card} button[data-action="plug"]`);
    await page.fill(`${card} input[data-field="card"]`, '0AFE5566');
    await page.click(`${card} button[data-action="tap card"]`);
    await page.waitForFunction((sel) => document.querySelector(sel + ' [data-field="status"]')?.textContent === 'Charging', card, { timeout: 30_000 });
    await page.waitForFunction((sel) => !/^(–|0\.00) kW$/.test(document.querySelector(sel + ' [data-field="power"]')?.textContent ?? ''), card, { timeout: 30_000 });
    assert.match(await text(page, `${card} [data-field="contactor"]`), /^closed/);
    assert.equal(await text(page, `${card} [data-field="token"]`), '…5566');
    await page.waitForFunction((n) => Number(document.querySelector('#chart')?.getAttribute('data-points')) > n + 1, pointsBefore, { timeout: 30_000 });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#frames tbody tr')).some((tr) => tr.textContent?.includes('StartTransaction')), undefined, { timeout: 30_000 });
    assert.ok((await page.locator('#frames tbody tr').count()) > framesBefore);
    // Let the chart gather a few more points, then keep a picture of the page while charging.
    await page.waitForFunction((n) => Number(document.querySelector('#chart')?.getAttribute('data-points')) > n + 3, pointsBefore, { timeout: 30_000 });
    await page.screenshot({ path: join(artifacts, 'status-page.png'), fullPage: true });

    // A phone: nothing runs off the right edge.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone`);
    await page.screenshot({ path: join(artifacts, 'status-page-phone.png') });

    await page.click(`${card} button[data-action="unplug"]`);
    await page.waitForFunction((sel) => /^(Available|Finishing)/.test(document.querySelector(sel + ' [data-field="status"]')?.textContent ?? ''), card, { timeout: 30_000 });
    assert.deepEqual(errors, [], 'no script errors on the page');
  } finally {
    await context.close();
    const code = await d.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, d.output().slice(-2000));
  }
});
