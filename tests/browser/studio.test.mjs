// The staff console as a new editor first meets it: signed out at /studio/,
// signs in with the password, is led through two-step sign-in (QR code,
// secret, first code, recovery codes shown once), signs in again with a
// code, finds the posts, keeps the session across a reload, and signs out.
// Every page free of console errors and CSP violations.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { api, env, eventually, launch, person, screenshot, totp, url } from './lib.mjs';

const $ = (page, id) => page.locator(`[data-testid="${id}"]`);

/**
 * Runs `step`, which the API must refuse: Chromium logs every 4xx fetch as
 * a console error, so exactly the refusals' 401s are taken off `who`'s
 * problems, and anything else stays to fail the test.
 */
async function refused(who, step, status = 401) {
  const before = who.problems.length;
  await step();
  const added = who.problems.splice(before);
  const other = added.filter((p) => !p.includes(`the server responded with a status of ${status}`));
  who.problems.push(...other);
  assert.ok(added.length > other.length, `the refusal reached the browser as a ${status}`);
}

// The recovery codes the first test was shown: later tests sign in with them.
let recoveryCodes = [];

/** A browser for `run`, closed whatever happens. */
async function withBrowser(run) {
  const browser = await launch();
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

async function signIn(page, email, password) {
  const form = $(page, 'signin-form');
  await form.waitFor({ state: 'visible' });
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill(password);
  await form.locator('button[type="submit"]').click();
}

test('a new editor enrols a second factor on first sign-in and then works in the console', () => withBrowser(async (browser) => {
  const staff = await person(browser);
  const page = await staff.newPage();
  const { email, password } = env.staff;

  await page.goto(url('/studio/'));
  await $(page, 'signin-form').waitFor({ state: 'visible' });
  assert.equal(await page.locator('meta[name="robots"]').getAttribute('content'), 'noindex, nofollow');
  await screenshot(page, 'studio-signin');

  // A wrong password is refused in words, and nothing opens.
  await refused(staff, async () => {
    await signIn(page, email, `${password}-wrong`);
    await eventually(async () => (await $(page, 'form-error').textContent()).includes('do not match'), 'the refusal');
  });

  // First run: no second factor yet, so enrolment comes first.
  await signIn(page, email, password);
  await $(page, 'enrol-email').waitFor();
  assert.equal(await $(page, 'enrol-email').textContent(), email);
  await page.locator('[data-testid="totp-qr"] svg').waitFor();
  const secret = (await $(page, 'totp-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{16,}=*$/);
  await screenshot(page, 'studio-enrol');

  // A wrong first code is refused and enrolment stays open.
  const enable = $(page, 'totp-enable-form');
  await refused(staff, async () => {
    await enable.locator('input[name="code"]').fill(totp(secret, Date.now() - 10 * 60_000));
    await enable.locator('button[type="submit"]').click();
    await eventually(async () => (await $(page, 'form-error').textContent()).includes('not right'), 'the wrong code refused');
  });

  await enable.locator('input[name="code"]').fill(totp(secret));
  await enable.locator('button[type="submit"]').click();
  await $(page, 'recovery-codes').waitFor();
  const codes = await page.locator('[data-testid="recovery-code"]').allTextContents();
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[a-z0-9]{4}-[a-z0-9]{4}$/);
  assert.equal(new Set(codes).size, 10);
  recoveryCodes = codes;
  await screenshot(page, 'studio-recovery-codes');
  await $(page, 'recovery-saved').click();

  // Shown once: the codes are gone, and the next sign-in asks for a code.
  await $(page, 'signin-notice').waitFor();
  assert.equal(await $(page, 'recovery-code').count(), 0);
  await signIn(page, email, password);
  const mfa = $(page, 'mfa-form');
  await mfa.waitFor({ state: 'visible' });
  // The enrolment used this step's code; each code works once.
  await mfa.locator('input[name="code"]').fill(totp(secret, Date.now() + 30_000));
  await mfa.locator('button[type="submit"]').click();
  await $(page, 'studio-console').waitFor();
  assert.ok((await $(page, 'studio-user').textContent()).includes(email));

  // The posts the scenario published are listed; a search narrows them.
  const row = page.locator('[data-testid="post-row"]', { hasText: env.post.word });
  await row.first().waitFor();
  assert.equal(await row.locator('[data-testid="post-state"]').first().textContent(), 'published');
  await page.fill('#post-q', env.post.word);
  await $(page, 'post-search').locator('button[type="submit"]').click();
  await eventually(async () => {
    const titles = await page.locator('[data-testid="post-title"]').allTextContents();
    return titles.length > 0 && titles.every((t) => t.includes(env.post.word));
  }, 'only the searched post');
  await screenshot(page, 'studio-posts');
  await page.selectOption('[data-testid="post-status"]', 'draft');
  await eventually(async () => (await page.locator('[data-testid="post-row"]', { hasText: env.post.word }).count()) === 0, 'published posts left out of drafts');

  // A reload keeps the session (the site's cookie renews the access token).
  await page.reload();
  await $(page, 'studio-console').waitFor();

  // Signing out ends it: a reload shows the sign-in form again.
  await $(page, 'sign-out').click();
  await $(page, 'signin-form').waitFor({ state: 'visible' });
  await page.reload();
  await $(page, 'signin-form').waitFor({ state: 'visible' });
  assert.equal(await $(page, 'studio-console').count(), 0);

  // A recovery code signs in once in place of the app's code.
  await signIn(page, email, password);
  await mfa.waitFor({ state: 'visible' });
  await mfa.locator('input[name="code"]').fill(codes[0]);
  await mfa.locator('button[type="submit"]').click();
  await $(page, 'studio-console').waitFor();

  assert.deepEqual(staff.problems, []);
}));

test('a member who signs in to the console is turned away', () => withBrowser(async (browser) => {
  const visitor = await person(browser);
  const page = await visitor.newPage();
  const { email, password } = env.member;
  await page.goto(url('/studio/'));
  await signIn(page, email, password);
  await eventually(async () => (await $(page, 'signin-notice').count()) > 0
    && (await $(page, 'signin-notice').textContent()).includes('for staff'), 'the refusal');
  assert.equal(await $(page, 'studio-console').count(), 0);
  assert.deepEqual(visitor.problems, []);
}));

test('an editor writes a bilingual post with a live preview and autosave, keeps their text through a conflict, schedules it in their time zone and publishes it', () => withBrowser(async (browser) => {
  assert.ok(recoveryCodes.length > 1, 'the enrolment test ran first');
  const staff = await person(browser, { timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await staff.newPage();
  const word = `w${Date.now().toString(36)}`;
  await page.goto(url('/studio/'));
  await signIn(page, env.staff.email, env.staff.password);
  const mfa = $(page, 'mfa-form');
  await mfa.waitFor({ state: 'visible' });
  await mfa.locator('input[name="code"]').fill(recoveryCodes[1]);
  await mfa.locator('button[type="submit"]').click();
  await $(page, 'new-post').click();

  // English: the slug follows the title; the preview is the server's HTML.
  await $(page, 'post-title-input').fill(`Edge notes ${word}`);
  assert.equal(await $(page, 'post-slug-input').inputValue(), `edge-notes-${word}`);
  await $(page, 'post-body-input').fill('## Why\n\nThe **edge** is close to readers.\n\n<script>alert(1)</script>');
  await page.locator('[data-testid="post-preview"] h2', { hasText: 'Why' }).waitFor();
  assert.equal(await page.locator('[data-testid="post-preview"] strong').textContent(), 'edge');
  assert.equal(await page.locator('[data-testid="post-preview"] script').count(), 0);

  // Vietnamese: diacritics folded in the suggested slug.
  await $(page, 'tab-vi').click();
  assert.equal(await $(page, 'tab-vi').getAttribute('aria-selected'), 'true');
  assert.equal(await $(page, 'post-title-input').inputValue(), '');
  await $(page, 'post-title-input').fill(`Phở bò Hà Nội ${word}`);
  assert.equal(await $(page, 'post-slug-input').inputValue(), `pho-bo-ha-noi-${word}`);
  await $(page, 'post-body-input').fill('Ngon **lắm**.');
  await page.locator('[data-testid="post-preview"] strong', { hasText: 'lắm' }).waitFor();
  await $(page, 'post-tags-input').fill('edge, pho');
  await $(page, 'save').click();
  await eventually(async () => (await $(page, 'editor-message').textContent()) === 'Saved.', 'the save');
  assert.equal(await $(page, 'editor-status').textContent(), 'draft');
  await screenshot(page, 'studio-editor');

  // A draft saves itself once typing pauses.
  await $(page, 'tab-en').click();
  await page.fill('#post-excerpt', `Saved by itself ${word}`);
  await eventually(async () => (await $(page, 'editor-message').textContent()) === 'Draft saved automatically.', 'the autosave');

  const listed = await api('GET', `/admin/posts?q=${word}`, { token: env.editorToken });
  assert.equal(listed.status, 200, listed.text);
  assert.equal(listed.json.data.length, 1);
  const saved = listed.json.data[0];
  assert.equal(saved.translations.vi.slug, `pho-bo-ha-noi-${word}`);
  assert.deepEqual(saved.tags, ['edge', 'pho']);
  assert.equal(saved.translations.en.excerpt, `Saved by itself ${word}`);

  // Someone else saves first: the stale save shows the conflict; the
  // editor keeps their text and saves it over the other version.
  const other = await api('PATCH', `/admin/posts/${saved.id}`, { token: env.editorToken, body: { version: saved.version, tags: ['edge'] } });
  assert.equal(other.status, 200, other.text);
  await $(page, 'tab-en').click();
  await $(page, 'post-body-input').fill('## Why\n\nThe **edge** is close to readers. Mine.');
  await refused(staff, async () => {
    await $(page, 'save').click();
    await $(page, 'conflict').waitFor();
  }, 409);
  await $(page, 'conflict-keep').click();
  await eventually(async () => (await $(page, 'conflict').count()) === 0, 'the conflict resolved');
  await $(page, 'save').click();
  await eventually(async () => (await $(page, 'editor-message').textContent()) === 'Saved.', 'the second save');
  const after = (await api('GET', `/admin/posts/${saved.id}`, { token: env.editorToken })).json.data;
  assert.ok(after.translations.en.body.endsWith('Mine.'), after.translations.en.body);
  assert.ok(after.version > other.json.data.version);

  // Scheduled at 09:30 in Ho Chi Minh City (UTC+7) two days ahead: 02:30 UTC.
  const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  await $(page, 'publish-at-input').fill(`${day}T09:30`);
  await $(page, 'schedule').click();
  await eventually(async () => (await $(page, 'editor-status').textContent()) === 'scheduled', 'the schedule');
  const scheduled = (await api('GET', `/admin/posts/${saved.id}`, { token: env.editorToken })).json.data;
  assert.equal(Date.parse(scheduled.publishAt), Date.parse(`${day}T02:30:00Z`));
  assert.equal(await $(page, 'editor-publish-at').textContent(), `${day} 09:30`);

  await $(page, 'publish').click();
  await eventually(async () => (await $(page, 'editor-status').textContent()) === 'published', 'the publish');
  const en = await api('GET', `/en/posts/edge-notes-${word}`);
  assert.equal(en.status, 200);
  assert.ok(en.text.includes(`Edge notes ${word}`));
  const vi = await api('GET', `/vi/posts/pho-bo-ha-noi-${word}`);
  assert.equal(vi.status, 200);
  assert.ok(vi.text.includes('<strong>lắm</strong>'));

  assert.deepEqual(staff.problems, []);
}));

/** Emails the local dev inbox holds for `address`, newest first. */
async function inbox(address) {
  const r = await api('GET', `/__dev/mail?to=${encodeURIComponent(address)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

/** `who` signs in for the first time, enrols TOTP and opens the console. */
async function firstSignIn(page, { email, password }) {
  await page.goto(url('/studio/'));
  await signIn(page, email, password);
  await page.locator('[data-testid="totp-qr"] svg').waitFor();
  const secret = (await $(page, 'totp-secret').textContent()).trim();
  const enable = $(page, 'totp-enable-form');
  await enable.locator('input[name="code"]').fill(totp(secret));
  await enable.locator('button[type="submit"]').click();
  await $(page, 'recovery-codes').waitFor();
  await $(page, 'recovery-saved').click();
  await signIn(page, email, password);
  const mfa = $(page, 'mfa-form');
  await mfa.waitFor({ state: 'visible' });
  await mfa.locator('input[name="code"]').fill(totp(secret, Date.now() + 30_000));
  await mfa.locator('button[type="submit"]').click();
  await $(page, 'studio-console').waitFor();
}

test('an admin imports two readers, exports the list, composes a bilingual campaign, tests it, sends it and watches it finish; a scheduled one is cancelled', () => withBrowser(async (browser) => {
  const tag = `c${Date.now().toString(36)}`;
  const readers = [
    { address: `${tag}en@example.com`, locale: 'en' },
    { address: `${tag}vi@example.com`, locale: 'vi' },
  ];
  const admin = await person(browser, { timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await admin.newPage();
  await firstSignIn(page, env.campaigner);

  // Two readers who agreed on paper are imported, with that note.
  await $(page, 'nav-subscribers').click();
  const csv = `email,locale\n${readers.map((r) => `${r.address},${r.locale}`).join('\n')}\nnot an address,en\n`;
  await page.setInputFiles('[data-testid="import-file"]', { name: 'readers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await $(page, 'import-consent').fill(`Signed up on paper ${tag}`);
  await $(page, 'import-submit').click();
  await eventually(async () => (await $(page, 'import-report').count()) > 0, 'the import report');
  const report = await $(page, 'import-report').textContent();
  assert.ok(report.includes('2 imported') && report.includes('1 refused') && report.includes('Line 4'), report);
  await page.fill('#subscriber-q', tag);
  await $(page, 'subscriber-search').locator('button[type="submit"]').click();
  await eventually(async () => (await $(page, 'subscriber-row').count()) === 2, 'the two imported readers');
  assert.deepEqual(await page.locator('[data-testid="subscriber-state"]').allTextContents(), ['confirmed', 'confirmed']);
  await screenshot(page, 'studio-subscribers');
  // The export holds them, with the consent note.
  await page.selectOption('[data-testid="subscriber-status"]', 'confirmed');
  const [download] = await Promise.all([page.waitForEvent('download'), $(page, 'export-subscribers').click()]);
  const exported = readFileSync(await download.path(), 'utf8');
  assert.ok(exported.startsWith('email,locale,status,created_at,confirmed_at,unsubscribed_at,consent'), exported.slice(0, 200));
  for (const r of readers) assert.ok(exported.includes(`${r.address},${r.locale},confirmed,`), `${r.address} exported`);
  assert.ok(exported.includes(`Signed up on paper ${tag}`));

  await $(page, 'nav-campaigns').click();
  await $(page, 'new-campaign').click();
  assert.ok(page.url().endsWith('/studio/campaigns/new'));
  await $(page, 'campaign-subject-input').fill(`Spring letter ${tag}`);
  await $(page, 'campaign-body-input').fill('Hello **readers** of the edge.');
  await page.locator('[data-testid="campaign-preview"] strong', { hasText: 'readers' }).waitFor();
  await $(page, 'tab-vi').click();
  await $(page, 'campaign-subject-input').fill(`Thư mùa xuân ${tag}`);
  await $(page, 'campaign-body-input').fill('Xin chào **bạn đọc**.');
  await page.locator('[data-testid="campaign-preview"] strong', { hasText: 'bạn đọc' }).waitFor();
  await $(page, 'campaign-save').click();
  await eventually(async () => (await $(page, 'campaign-message').textContent()) === 'Saved.', 'the save');
  assert.equal(await $(page, 'campaign-status-now').textContent(), 'draft');
  assert.match(page.url(), /\/studio\/campaigns\/[A-Za-z0-9_-]+$/);

  // A test in Vietnamese reaches the one address named, and nobody else.
  const tester = `${tag}-test@example.com`;
  await $(page, 'campaign-test-to').fill(tester);
  await page.selectOption('[data-testid="campaign-test-locale"]', 'vi');
  await $(page, 'campaign-test').click();
  await eventually(async () => (await $(page, 'campaign-message').textContent()) === 'Test sent.', 'the test');
  const tests = await inbox(tester);
  assert.equal(tests.length, 1);
  assert.equal(tests[0].subject, `[Test] Thư mùa xuân ${tag}`);
  for (const r of readers) assert.equal((await inbox(r.address)).length, 0, 'a test is not the campaign');

  // Sent for real: the progress is watched until every recipient is settled.
  await $(page, 'campaign-send').click();
  await $(page, 'campaign-send-confirm').click();
  await $(page, 'campaign-progress').waitFor();
  await eventually(async () => (await $(page, 'campaign-status-now').textContent()) === 'sent', 'the campaign to finish', 60_000);
  const total = Number(await $(page, 'count-total').textContent());
  assert.ok(total >= 2, `at least the two readers (${total})`);
  assert.equal(Number(await $(page, 'count-sent').textContent()) + Number(await $(page, 'count-skipped').textContent())
    + Number(await $(page, 'count-failed').textContent()), total);
  assert.equal(await $(page, 'count-pending').textContent(), '0');
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'studio-campaign');
  for (const r of readers) {
    const mails = await inbox(r.address);
    assert.equal(mails.length, 1, `${r.address} gets the campaign once`);
    assert.equal(mails[0].subject, r.locale === 'vi' ? `Thư mùa xuân ${tag}` : `Spring letter ${tag}`);
  }
  // A sent campaign's texts can no longer be changed.
  assert.equal(await $(page, 'campaign-save').count(), 0);

  // The list shows it sent; a scheduled one is cancelled before it starts.
  await $(page, 'back-to-campaigns').click();
  const row = page.locator('[data-testid="campaign-row"]', { hasText: `Spring letter ${tag}` });
  await row.waitFor();
  assert.equal(await row.locator('[data-testid="campaign-state"]').textContent(), 'sent');
  await screenshot(page, 'studio-campaigns');
  await $(page, 'new-campaign').click();
  await $(page, 'campaign-subject-input').fill(`Later letter ${tag}`);
  await $(page, 'campaign-body-input').fill('Soon.');
  await $(page, 'tab-vi').click();
  await $(page, 'campaign-subject-input').fill(`Thư sau ${tag}`);
  await $(page, 'campaign-body-input').fill('Sắp tới.');
  // A month ahead, picked in Ho Chi Minh City's time (UTC+7), stored in UTC.
  const at = new Date(Math.floor((Date.now() + 30 * 86_400_000) / 60_000) * 60_000);
  const local = new Date(at.getTime() + 7 * 3_600_000).toISOString().slice(0, 16);
  await $(page, 'campaign-send-at-input').fill(local);
  await $(page, 'campaign-schedule').click();
  await eventually(async () => (await $(page, 'campaign-status-now').textContent()) === 'scheduled', 'the schedule');
  assert.equal(await $(page, 'campaign-send-at').getAttribute('datetime'), `${at.toISOString().slice(0, 16)}:00Z`);
  await $(page, 'campaign-cancel').click();
  await $(page, 'campaign-cancel-confirm').click();
  await eventually(async () => (await $(page, 'campaign-status-now').textContent()) === 'cancelled', 'the cancel');
  assert.equal(await $(page, 'campaign-cancel').count(), 0);

  assert.deepEqual(admin.problems, []);
}));
