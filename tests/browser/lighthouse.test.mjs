// Lighthouse's deterministic categories — accessibility, best practices
// and SEO — at 95 or more on the home page and a post page, in English and
// Vietnamese; accessibility at 95 or more on each screen of the staff
// console, walked through by a new admin. Performance depends on the machine's load: scripts/bench
// reports it (report.mjs) in docs/perf.md.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { env, totp, url } from './lib.mjs';
import { audit, auditedPages, auditScreens } from './lighthouse.mjs';

const CATEGORIES = ['accessibility', 'best-practices', 'seo'];

for (const { name, path } of auditedPages()) {
  test(`Lighthouse scores the ${name} page at least 95 for accessibility, best practices and SEO`, async () => {
    const { scores, failing } = await audit(path, CATEGORIES);
    for (const c of CATEGORIES) {
      assert.ok(scores[c] >= 95, `${c} ${scores[c]} < 95 on ${path}; failing audits: ${failing.join('; ')}`);
    }
  });
}

test('Lighthouse scores each screen of the staff console at least 95 for accessibility, from sign-in to the editor, the campaigns and the subscribers', async (t) => {
  const { email, password } = env.auditor;
  const at = (id) => `[data-testid="${id}"]`;
  const fill = async (page, selector, text) => {
    await page.waitForSelector(selector, { visible: true });
    await page.type(selector, text);
  };
  const screens = await auditScreens(async (page, screen) => {
    const signIn = async () => {
      await fill(page, `${at('signin-form')} input[name="email"]`, email);
      await fill(page, `${at('signin-form')} input[name="password"]`, password);
      await page.click(`${at('signin-form')} button[type="submit"]`);
    };
    await page.goto(url('/studio/'), { waitUntil: 'networkidle0' });
    await page.waitForSelector(at('signin-form'), { visible: true });
    await screen('sign-in');

    await signIn();
    await page.waitForSelector(`${at('totp-qr')} svg`);
    await screen('two-step enrolment');
    const secret = (await page.$eval(at('totp-secret'), (e) => e.textContent)).trim();
    await fill(page, `${at('totp-enable-form')} input[name="code"]`, totp(secret));
    await page.click(`${at('totp-enable-form')} button[type="submit"]`);
    await page.waitForSelector(at('recovery-codes'));
    await screen('recovery codes');

    await page.click(at('recovery-saved'));
    await signIn();
    await fill(page, `${at('mfa-form')} input[name="code"]`, totp(secret, Date.now() + 30_000));
    await page.click(`${at('mfa-form')} button[type="submit"]`);
    await page.waitForSelector(at('post-row'));
    await screen('posts');

    await page.click(at('new-post'));
    await fill(page, at('post-title-input'), 'Lighthouse looks at the editor');
    await fill(page, at('post-body-input'), '## A heading\n\nSome **bold** text.');
    await page.waitForSelector(`${at('post-preview')} h2`);
    await screen('editor');

    await page.click(at('nav-campaigns'));
    await page.waitForSelector(`${at('campaign-table')}, ${at('no-campaigns')}`);
    await screen('campaigns');
    await page.click(at('new-campaign'));
    await fill(page, at('campaign-subject-input'), 'Lighthouse looks at a campaign');
    await fill(page, at('campaign-body-input'), 'Some **bold** news.');
    await page.waitForSelector(`${at('campaign-preview')} strong`);
    await screen('campaign');

    await page.click(at('nav-subscribers'));
    await page.waitForSelector(`${at('subscriber-table')}, ${at('no-subscribers')}`);
    await screen('subscribers');
  }, ['accessibility']);
  assert.deepEqual(screens.map((s) => s.name), ['sign-in', 'two-step enrolment', 'recovery codes', 'posts', 'editor', 'campaigns', 'campaign', 'subscribers']);
  for (const { name, scores, failing } of screens) {
    t.diagnostic(`${name}: accessibility ${scores.accessibility}${failing.length ? ` (${failing.join('; ')})` : ''}`);
    assert.ok(scores.accessibility >= 95, `accessibility ${scores.accessibility} < 95 on the console's ${name} screen; failing audits: ${failing.join('; ')}`);
  }
});
