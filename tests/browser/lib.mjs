// The browser side of the site's tests: Debian's Chromium driven by
// playwright-core, one context per person (its own client address, language
// and storage), every page watched for console errors and CSP violations,
// and what the tests need from the API (the editor's moderation, a post's
// counts) over plain fetch.
//
// Run by the e2e scenario `the_site_works_in_a_real_browser`, which starts
// the stack, seeds the posts and passes them in the environment.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** A required environment variable. */
function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through the e2e scenario`);
  return value;
}

// SEALPOST_SEED: `{"editorToken", "post": {id, en, vi, word}, "readPost": {…},
// "staff": {email, password}, "auditor": {email, password}, "campaigner": {email, password},
// "member": {email, password}}`: the posts the
// scenario published (an English and a Vietnamese slug each, and a word in
// both titles), an editor's access token, a new editor who has never signed
// in (no second factor yet), a new admin for the console's Lighthouse audits,
// another who runs a campaign, and a member.
const seed = JSON.parse(need('SEALPOST_SEED'));

export const env = {
  base: need('SEALPOST_BASE_URL').replace(/\/$/, ''),
  editorToken: seed.editorToken,
  post: seed.post,
  readPost: seed.readPost,
  staff: seed.staff,
  member: seed.member,
  auditor: seed.auditor,
  campaigner: seed.campaigner,
  chrome: process.env.CHROME_PATH || '/usr/bin/chromium',
  screenshots: process.env.SEALPOST_SCREENSHOTS || '',
};

export const url = (path) => `${env.base}${path}`;

/** A client address of its own, so per-client limits see separate people. */
export function freshIp() {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c || 1}`;
}

export async function launch() {
  return chromium.launch({
    executablePath: env.chrome,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/**
 * A person: a browser context with its own language, address and storage.
 * `problems` collects every console error, uncaught exception and CSP
 * violation on any of its pages; a test ends by asserting it is empty.
 */
export async function person(browser, { locale = 'en-US', mobile = false, timezoneId } = {}) {
  const context = await browser.newContext({
    locale,
    ...(timezoneId ? { timezoneId } : {}),
    extraHTTPHeaders: { 'CF-Connecting-IP': freshIp() },
    ...(mobile
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 } }),
  });
  const problems = [];
  // CSP violations are also console errors in Chromium; the event carries
  // the directive, so it is reported as one (the init script runs from the
  // driver, outside the page's CSP).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${page.url()}: console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: uncaught: ${e.message}`));
    // SEALPOST_BROWSER_TRACE=1: every refused request, to see why a step hangs.
    if (process.env.SEALPOST_BROWSER_TRACE) {
      page.on('response', async (r) => {
        if (r.status() < 400) return;
        let body = '';
        try { body = (await r.text()).slice(0, 300); } catch { /* gone */ }
        console.error(`trace: ${r.request().method()} ${r.url()} -> ${r.status()} ${body}`);
      });
      page.on('console', (m) => console.error(`trace: console.${m.type()}: ${m.text()}`));
    }
  };
  context.on('page', watch);
  return { context, problems, newPage: () => context.newPage() };
}

/** Saves a screenshot as docs/screenshots/`name`.png when asked to. */
export async function screenshot(page, name) {
  if (!env.screenshots) return;
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: join(env.screenshots, `${name}.png`), fullPage: false });
}

/** A JSON call to the API, as the editor when `token` is given. */
export async function api(method, path, { token, body, ip = freshIp() } = {}) {
  const headers = { Accept: 'application/json', 'CF-Connecting-IP': ip };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, cache: res.headers.get('x-sealpost-cache') };
}

/**
 * The public post `slug` as D1 holds it now. The API keeps a post in the
 * edge cache for a minute without purging it for views and ratings, and the
 * site's renders fill the entries with `?lang`; this asks without `lang`, a
 * key of its own, once per post, and checks the answer was not a cached one.
 */
export async function storedPost(slug) {
  const r = await api('GET', `/posts/${encodeURIComponent(slug)}`);
  if (r.status !== 200) throw new Error(`GET /posts/${slug}: ${r.status} ${r.text}`);
  if (r.cache !== 'miss') throw new Error(`GET /posts/${slug} came from the edge cache (${r.cache}): read each post once`);
  return r.json.data;
}

/** Polls `probe` until it returns a truthy value (or fails after `ms`). */
export async function eventually(probe, what, ms = 10_000) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    last = await probe();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 `secret`, as an authenticator app. */
export function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}
