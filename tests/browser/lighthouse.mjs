// Lighthouse (the pinned library, mobile emulation, its defaults) against
// the system Chromium: one audit of one page, or of each screen a walk
// through an app stops at, answered as each category's score out of 100 and
// the audits that cost points.
//
// Chromium is launched here rather than by Lighthouse's CLI: the CLI gives a
// starting browser 25 s to open its debugging port and has no way to wait
// longer, and a cold first start on a loaded machine can take more. Here a
// start gets a minute, and a browser that never answers is started again.
import * as chromeLauncher from 'chrome-launcher';
import lighthouse, { snapshot } from 'lighthouse';
import puppeteer from 'puppeteer-core';

import { env, freshIp, url } from './lib.mjs';

const LAUNCH_ATTEMPTS = 3;
const CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage'];

/** The pages audited: the home and a post, in each language. */
export function auditedPages() {
  return ['en', 'vi'].flatMap((l) => [
    { name: `home (${l})`, path: `/${l}/` },
    { name: `post (${l})`, path: `/${l}/posts/${env.post[l]}` },
  ]);
}

/** A fresh Chromium with its debugging port open, started again if it never opens. */
async function launchChrome() {
  let last;
  for (let attempt = 1; attempt <= LAUNCH_ATTEMPTS; attempt += 1) {
    try {
      return await chromeLauncher.launch({
        chromePath: env.chrome,
        chromeFlags: CHROME_FLAGS,
        connectionPollInterval: 500,
        maxConnectionRetries: 120,
      });
    } catch (e) {
      last = e;
      console.error(`Chromium did not open its debugging port (attempt ${attempt}/${LAUNCH_ATTEMPTS}): ${e.message}`);
    }
  }
  throw last;
}

/** Each category's score out of 100 and the weighted audits that cost points. */
function summary(report, what) {
  if (report.runtimeError) throw new Error(`Lighthouse could not audit ${what}: ${report.runtimeError.message}`);
  const scores = {};
  const failing = [];
  for (const [id, category] of Object.entries(report.categories)) {
    scores[id] = Math.round(category.score * 100);
    for (const ref of category.auditRefs) {
      const a = report.audits[ref.id];
      if (ref.weight > 0 && a.score !== null && a.score < 1) failing.push(`${id}: ${a.title} (${a.score})`);
    }
  }
  return { scores, failing };
}

/** Audits `path` in `categories`: `{scores: {id: 0–100}, failing: [audit titles]}`. */
export async function audit(path, categories) {
  const chrome = await launchChrome();
  let report;
  try {
    const result = await lighthouse(url(path), {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: categories,
      extraHeaders: { 'CF-Connecting-IP': freshIp() },
    });
    report = result.lhr;
  } finally {
    await chrome.kill();
  }
  return summary(report, path);
}

/**
 * Walks an app in one fresh Chromium, driven by puppeteer (Lighthouse's own
 * driver): `walk(page, screen)` moves through it the way a person does and
 * calls `await screen(name)` at each screen, which audits the page as it
 * stands then (Lighthouse's snapshot mode: what is on screen, signed in).
 * Answers `[{name, scores, failing}]` in the order of the screens.
 */
export async function auditScreens(walk, categories) {
  const chrome = await launchChrome();
  const screens = [];
  try {
    const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}`, defaultViewport: null });
    try {
      const page = await browser.newPage();
      await page.setExtraHTTPHeaders({ 'CF-Connecting-IP': freshIp() });
      await walk(page, async (name) => {
        const result = await snapshot(page, { flags: { onlyCategories: categories, logLevel: 'error' } });
        screens.push({ name, ...summary(result.lhr, `the ${name} screen`) });
      });
    } finally {
      await browser.disconnect();
    }
  } finally {
    await chrome.kill();
  }
  return screens;
}
