/**
 * The dashboard as a person uses it, in a real headless chromium against a
 * real gateway and fake miners: every page loads, a compare streams answers
 * side by side with scores, a miner's <script> answer shows as text and
 * never runs, the leaderboard draws its charts, and the admin login gates
 * key usage. Screenshots go to test/screenshots/ (gitignored).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { DASHBOARD_CSP } from '../routes/dashboard.js';
import { launchBrowser, SCREENSHOT_DIR, type Browser } from './support/browser.js';
import { judgedSubnets } from './support/compare-client.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

let low: RunningMiner;
let high: RunningMiner;
let html: RunningMiner;
let judge: RunningMiner;
let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  low = await startMiner({ hotkeyUri: '//DashLow', name: 'low', quality: 4, chunkDelayMs: 5 });
  high = await startMiner({ hotkeyUri: '//DashHigh', name: 'high', quality: 9, chunkDelayMs: 5 });
  html = await startMiner({ hotkeyUri: '//DashHtml', name: 'html', fault: 'htmlAnswer' });
  judge = await startMiner({ hotkeyUri: '//DashJudge', name: 'judge', quality: 6 });
  gw = await startTestGateway({ subnets: judgedSubnets([low, high, html], judge) });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await Promise.all([low, high, html, judge].map((m) => m?.close()));
});

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });

async function openPage(path: string): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const response = await page.goto(`${gw.url}${path}`);
  expect(response?.status()).toBe(200);
  expect(errors).toEqual([]);
  return page;
}

describe('pages over HTTP', () => {
  it.each(['/dashboard', '/dashboard/compare', '/dashboard/leaderboard', '/dashboard/login'])('%s is HTML with a strict CSP', async (path) => {
    const res = await fetch(`${gw.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const body = await res.text();
    // Nothing from outside, nothing inline.
    expect(body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    expect(body).not.toMatch(/<script>|<style|style="/);
  });

  it('lists subnets served by their own API beside miner subnets, with their health, and offers their models to compare', async () => {
    const api = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'chutes-key', models: ['deepseek-ai/DeepSeek-V3'], name: 'chutes' });
    const subnets = [{ netuid: 64, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: api.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' }, models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3' }] }];
    const mixed = await startTestGateway({ subnets: judgedSubnets([low, high, html], judge), subnetConfig: { document: { subnets }, env: { CHUTES_API_KEY: 'chutes-key' } } });
    // No metagraph at all: the API subnet is served, so its pages are too.
    const apiOnly = await startTestGateway({ subnetConfig: { document: { subnets }, env: { CHUTES_API_KEY: 'chutes-key' } } });
    try {
      await mixed.client().chat.completions.create({ model: 'sn64/deepseek-v3', messages: [{ role: 'user', content: 'hi' }] });
      for (const target of [mixed, apiOnly]) {
        const home = await fetch(`${target.url}/dashboard`);
        expect(home.status).toBe(200);
        const body = await home.text();
        expect(body).toContain('data-netuid="64"');
        expect(body).toContain('served by its own API (subnet-api:chutes)');
        const compare = await fetch(`${target.url}/dashboard/compare`);
        expect(compare.status).toBe(200);
        expect(await compare.text()).toContain('value="sn64/deepseek-v3"');
      }
      const home = await (await fetch(`${mixed.url}/dashboard`)).text();
      // The API's health after one answer: closed, with a latency; and the miner subnet beside it.
      expect(home).toMatch(/data-netuid="64"[\s\S]*badge closed[\s\S]*\d+ ms/);
      expect(home).toContain('data-netuid="4"');
      // Its origin is the operator's business, not the page's.
      expect(home).not.toContain(api.baseUrl);
    } finally {
      await Promise.all([mixed.close(), apiOnly.close()]);
      await api.close();
    }
  });

  it('serves its own script and stylesheet', async () => {
    const js = await fetch(`${gw.url}/dashboard/assets/compare.js`);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    const code = await js.text();
    expect(code).toContain('/v1/compare');
    expect(code).not.toContain('innerHTML');
    const css = await fetch(`${gw.url}/dashboard/assets/dashboard.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('gates key usage behind an admin session: httpOnly, SameSite=Strict, gone after logout', async () => {
    const origin = { origin: gw.url, 'content-type': 'application/x-www-form-urlencoded' };
    const keys = (cookie?: string) => fetch(`${gw.url}/dashboard/keys`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    expect((await keys()).headers.get('location')).toBe('/dashboard/login');
    const wrong = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', headers: origin, body: 'token=not-the-token', redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // Another site cannot post the login form.
    const forged = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', headers: { ...origin, origin: 'http://evil.example' }, body: `token=${TEST_ADMIN_TOKEN}`, redirect: 'manual' });
    expect(forged.status).toBe(403);

    const ok = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', headers: origin, body: `token=${TEST_ADMIN_TOKEN}`, redirect: 'manual' });
    expect(ok.status).toBe(303);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^taogate_admin=[\w-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/dashboard/);
    expect(setCookie).not.toContain(TEST_ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0] ?? '';
    const page = await keys(cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('API keys and their usage');

    const out = await fetch(`${gw.url}/dashboard/logout`, { method: 'POST', headers: { ...origin, cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    // The session is gone on the server, not just the cookie in this browser.
    expect((await keys(cookie)).status).toBe(303);
  });
});

describe('in chromium', () => {
  it('shows subnets and their ranked miners with health and the snapshot block', async () => {
    await gw.client().chat.completions.create({ model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'warm up' }] });
    const page = await openPage('/dashboard');
    await expect(page.locator('#snapshot').textContent()).resolves.toMatch(/Snapshot from file .* block/);
    const rows = page.locator('section[data-netuid="4"] tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.first().textContent()).toContain(low.hotkey.slice(0, 6));
    expect(await page.locator('section[data-netuid="4"] .badge').allTextContents()).toContain('closed');
    await shot(page, 'subnets');
    await page.close();
  });

  it('runs a compare: answers side by side with scores and latency, and a <script> answer stays text', async () => {
    const page = await openPage('/dashboard/compare');
    await page.fill('#api-key', gw.apiKey);
    await page.fill('#prompt', 'Which miner answers best?');
    for (const uid of [1, 2, 3]) await page.check(`input[value="sn4/uid:${uid}"]`);
    await page.selectOption('#judge', 'sn62/coder');
    await page.click('#run');
    await page.waitForSelector('#status[data-done="1"]', { timeout: 20_000 });

    const cards = page.locator('#results .card');
    expect(await cards.count()).toBe(3);
    const texts = await cards.allTextContents();
    expect(texts[0]).toContain('devnet miner low (quality 4/10)');
    expect(texts[1]).toContain('devnet miner high (quality 9/10)');
    expect(texts[1]).toMatch(/latency: \d+ ms/);
    expect(texts[1]).toMatch(/TTFT: \d+ ms/);
    expect(texts[1]).toContain('judge 9/10');
    expect(await page.locator('#results .card.winner h3').allTextContents()).toEqual(['sn4/uid:2']);
    expect(await page.locator('#status').textContent()).toContain('leaderboard: recorded');

    // The miner's markup is shown as text: the <script> is visible, nothing ran, no element was made of it.
    const answer = await cards.nth(2).locator('.answer').textContent();
    expect(answer).toContain('<script>window.__taogatePwned = true</script>');
    expect(answer).toContain('<img src="x" onerror=');
    expect(await page.evaluate(() => (window as unknown as { __taogatePwned?: boolean }).__taogatePwned)).toBeUndefined();
    expect(await page.locator('#results script, #results img, #results b').count()).toBe(0);
    await shot(page, 'compare');

    // The key stays in this tab for the next compare.
    await page.reload();
    expect(await page.inputValue('#api-key')).toBe(gw.apiKey);
    await page.close();
  });

  it('shows a compare error from the API', async () => {
    const page = await openPage('/dashboard/compare');
    await page.fill('#api-key', 'sk-tao-wrong');
    await page.check('input[value="sn4/uid:1"]');
    await page.click('#run');
    await page.waitForSelector('#status[data-done="1"]');
    expect(await page.locator('#status').textContent()).toMatch(/error 401/);
    await page.close();
  });

  it('draws the leaderboard with inline SVG charts', async () => {
    const page = await openPage('/dashboard/leaderboard?netuid=4&window=1h');
    const rows = page.locator('section[data-netuid="4"] tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.first().textContent()).toContain('9.00');
    const bars = page.locator('#score-chart-4 rect.bar');
    expect(await bars.count()).toBe(3);
    const widths = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('width'))));
    expect(widths[0]).toBeGreaterThan(widths[2] ?? Infinity);
    expect(await page.locator('#latency-chart-4 rect.bar:not(.p90)').count()).toBe(3);
    expect(await page.locator('#latency-chart-4 rect.bar.p90').count()).toBe(3);
    await shot(page, 'leaderboard');
    await page.close();
  });

  it('logs an admin in with the form and shows key usage', async () => {
    const page = await openPage('/dashboard/login');
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL('**/dashboard/keys');
    const table = await page.locator('#keys').textContent();
    expect(table).toContain('test');
    // The session cookie is invisible to page scripts.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await shot(page, 'keys');
    await page.click('text=Log out');
    await page.waitForURL(`${gw.url}/dashboard`);
    await page.goto(`${gw.url}/dashboard/keys`);
    expect(page.url()).toBe(`${gw.url}/dashboard/login`);
    await page.close();
  });
});
