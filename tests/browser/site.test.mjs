// The site the way people use it, in headless Chromium: a visitor's
// language and the switch to the other one, an honest read count, a member
// who signs up, logs in, rates, comments and enrols a second factor, a
// second visitor who sees the comment arrive live and go when an editor
// removes it, the subscribe form, and every kind of page free of console
// errors and CSP violations.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import { api, env, eventually, launch, person, screenshot, storedPost, totp, url } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const { post, readPost } = env;
const path = (u) => new URL(u).pathname;

/** The page's `<html lang>`. */
const lang = (page) => page.getAttribute('html', 'lang');

/** The visible text of `data-testid=id`. */
const text = async (page, id) => (await page.locator(`[data-testid="${id}"]`).first().textContent())?.trim();

test('a visitor opening / lands in their language, finds a post and switches to it in the other language', async () => {
  const visitor = await person(browser, { locale: 'vi-VN' });
  const page = await visitor.newPage();
  await page.goto(url('/'));
  assert.equal(await lang(page), 'vi');
  assert.equal(await page.getAttribute('body', 'data-page'), 'home');
  await screenshot(page, 'home-vi');

  await page.fill('form[data-testid="search-form"] input[name="q"]', post.word);
  await Promise.all([page.waitForURL(/[?&]q=/), page.press('form[data-testid="search-form"] input[name="q"]', 'Enter')]);
  const link = page.locator(`a[data-testid="post-link"][href$="/vi/posts/${post.vi}"]`);
  await Promise.all([page.waitForURL((u) => path(u) === `/vi/posts/${post.vi}`), link.click()]);
  assert.equal(await lang(page), 'vi');
  assert.match(await text(page, 'post-title'), /tiếng Việt/);

  const toEnglish = page.locator('a[data-testid="lang-switch"][hreflang="en"]');
  await Promise.all([page.waitForURL((u) => path(u) === `/en/posts/${post.en}`), toEnglish.click()]);
  assert.equal(await lang(page), 'en');
  assert.equal(await page.getAttribute('article[data-testid="post"]', 'data-post-id'), post.id);
  assert.deepEqual(visitor.problems, []);
  await visitor.context.close();
});

test('a read counts once for a reader who reloads the post twice', async () => {
  // Nobody else opens this post.
  const reader = await person(browser);
  const page = await reader.newPage();
  const beacons = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && path(r.url()) === `/posts/${readPost.id}/views`) beacons.push(r.url());
  });
  const counted = page.waitForResponse((r) => path(r.url()) === `/posts/${readPost.id}/views`);
  await page.goto(url(`/en/posts/${readPost.en}`));
  assert.equal(await text(page, 'view-count'), '0');
  assert.equal((await counted).status(), 202);
  await eventually(async () => (await text(page, 'view-count')) === '1', 'the count on the page');
  for (let i = 0; i < 2; i += 1) {
    await page.reload();
    // Longer than the beacon's second on screen.
    await page.waitForTimeout(1_500);
  }
  assert.equal(beacons.length, 1, `beacons sent: ${beacons.length}`);
  assert.equal((await storedPost(readPost.en)).views, 1);
  assert.deepEqual(reader.problems, []);
  await reader.context.close();
});

test('a member signs up, logs in, rates and comments; another visitor sees the comment live until an editor removes it', async () => {
  const member = await person(browser);
  const page = await member.newPage();
  const email = `browser-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Sealpost browser ${randomBytes(6).toString('hex')}`;

  await page.goto(url('/en/signup'));
  const signup = page.locator('form[data-testid="signup-form"]');
  await signup.locator('input[name="displayName"]').fill('Lan Nguyễn');
  await signup.locator('input[name="email"]').fill(email);
  await signup.locator('input[name="password"]').fill(password);
  await screenshot(page, 'signup-en');
  await Promise.all([page.waitForURL((u) => path(u) === '/en/account'), signup.locator('button[type="submit"]').click()]);
  await page.locator('[data-testid="account"]').waitFor({ state: 'visible' });
  assert.equal(await text(page, 'account-email'), email);
  assert.equal(await text(page, 'account-name'), 'Lan Nguyễn');

  await Promise.all([page.waitForURL((u) => path(u) === '/en/'), page.click('[data-testid="sign-out"]')]);
  await page.locator('[data-testid="nav-login"]').waitFor({ state: 'visible' });

  await page.goto(url('/en/login'));
  const login = page.locator('form[data-testid="login-form"]');
  await login.locator('input[name="email"]').fill(email);
  await login.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForURL((u) => path(u) === '/en/account'), login.locator('button[type="submit"]').click()]);
  await page.locator('[data-testid="account"]').waitFor({ state: 'visible' });

  // Rating: the member's score shows in the post's average at once.
  await page.goto(url(`/en/posts/${post.en}`));
  // Nobody else rates this post.
  assert.equal(await text(page, 'rating-count'), '0');
  await page.locator('[data-testid="rating-controls"]').waitFor({ state: 'visible' });
  await page.click('[data-testid="rate-4"]');
  await eventually(async () => (await text(page, 'rating-message')) === 'Thanks, your rating is saved.', 'the rating message');
  assert.equal(await text(page, 'rating-count'), '1');
  assert.match(await text(page, 'rating-average'), /^4\.0/);
  assert.deepEqual((await storedPost(post.en)).rating, { average: 4, count: 1 });

  // A second visitor, signed out, watches the same post.
  const watcher = await person(browser);
  const watching = await watcher.newPage();
  await watching.goto(url(`/en/posts/${post.en}`));
  await watching.locator('section[data-testid="comments"][data-live="open"]').waitFor({ state: 'attached' });
  assert.equal(await watching.locator('form[data-testid="comment-form"]').isVisible(), false);
  assert.equal(await watching.locator('a[data-testid="comment-signin"]').isVisible(), true);

  const body = `Bài viết hay quá! Live ${randomBytes(3).toString('hex')}`;
  const form = page.locator('form[data-testid="comment-form"]');
  await form.waitFor({ state: 'visible' });
  await form.locator('textarea[name="body"]').fill(body);
  await form.locator('button[type="submit"]').click();
  const mine = page.locator('li[data-testid="comment"]', { hasText: body });
  const theirs = watching.locator('li[data-testid="comment"]', { hasText: body });
  await mine.waitFor();
  await theirs.waitFor();
  assert.equal(await mine.count(), 1, 'the author sees the comment once');
  assert.equal(await theirs.count(), 1, 'the watcher sees the comment once');
  assert.equal((await theirs.locator('[data-testid="comment-author"]').textContent()).trim(), 'Lan Nguyễn');
  // The script writes the date the way the server does ("3 December 2026").
  assert.match((await theirs.locator('time').textContent()).trim(), /^\d{1,2} [A-Z][a-z]+ \d{4}$/);
  await screenshot(watching, 'post-live-comment-en');

  const commentId = await theirs.getAttribute('data-comment-id');
  const removed = await api('DELETE', `/admin/comments/${post.id}/${commentId}`, { token: env.editorToken });
  assert.equal(removed.status, 200, removed.text);
  await theirs.waitFor({ state: 'detached' });
  await mine.waitFor({ state: 'detached' });
  await watching.reload();
  assert.equal(await watching.locator('li[data-testid="comment"]', { hasText: body }).count(), 0);

  assert.deepEqual(member.problems, []);
  assert.deepEqual(watcher.problems, []);
  await watcher.context.close();

  // Second factor: the QR and the secret, a code from the authenticator,
  // and the next login asks for one.
  await page.goto(url('/en/account'));
  await page.locator('[data-testid="account"]').waitFor({ state: 'visible' });
  await page.click('[data-testid="totp-setup"]');
  await page.locator('[data-testid="totp-qr"] svg').waitFor();
  const secret = (await text(page, 'totp-secret')).replace(/\s+/g, '');
  await screenshot(page, 'account-totp-en');
  const enable = page.locator('form[data-testid="totp-enable-form"]');
  await enable.locator('input[name="code"]').fill(totp(secret));
  await enable.locator('button[type="submit"]').click();
  await eventually(async () => (await text(page, 'totp-status')) === 'Two-factor authentication is on.', 'the TOTP status');

  await Promise.all([page.waitForURL((u) => path(u) === '/en/'), page.goto(url('/en/account')).then(() => page.click('[data-testid="sign-out"]'))]);
  await page.goto(url('/en/login'));
  await login.locator('input[name="email"]').fill(email);
  await login.locator('input[name="password"]').fill(password);
  await login.locator('button[type="submit"]').click();
  const mfa = page.locator('form[data-testid="mfa-form"]');
  await mfa.waitFor({ state: 'visible' });
  // The enrolment used this step's code; each code works once.
  await mfa.locator('input[name="code"]').fill(totp(secret, Date.now() + 30_000));
  await Promise.all([page.waitForURL((u) => path(u) === '/en/account'), mfa.locator('button[type="submit"]').click()]);
  await page.locator('[data-testid="account"]').waitFor({ state: 'visible' });
  // Signing out ended the two sessions before: only this one is left.
  await page.locator('li[data-testid="session"][data-current="true"]').waitFor();
  assert.equal(await page.locator('li[data-testid="session"]').count(), 1);
  assert.deepEqual(member.problems, []);
  await member.context.close();
});

/** The newest email to `address` in the local dev inbox whose text has `path?token=`; that link. */
async function mailedLink(address, path) {
  return eventually(async () => {
    const r = await api('GET', `/__dev/mail?to=${encodeURIComponent(address)}`);
    for (const mail of r.json?.data || []) {
      const m = (mail.text || '').match(new RegExp(`https?://\\S+${path.replace(/\//g, '\\/')}\\?token=[^\\s"<]+`));
      if (m) return m[0];
    }
    return null;
  }, `an email to ${address} with a ${path} link`);
}

test('subscribing from the footer tells the visitor to check their inbox, and the emailed links open pages in the site\'s look', async () => {
  const visitor = await person(browser, { locale: 'vi-VN', mobile: true });
  const page = await visitor.newPage();
  const address = `reader-${randomBytes(4).toString('hex')}@example.com`;
  await page.goto(url(`/vi/posts/${post.vi}`));
  await screenshot(page, 'post-vi-mobile');
  const subscribe = async () => {
    const form = page.locator('form[data-testid="subscribe-form"]');
    await form.locator('input[name="email"]').fill(address);
    await form.locator('[data-testid="subscribe-submit"]').click();
    await eventually(
      async () => (await text(page, 'subscribe-message')) === 'Sắp xong: hãy kiểm tra hộp thư để xác nhận đăng ký.',
      'the subscribe message',
    );
    assert.equal(path(page.url()), `/vi/posts/${post.vi}`, 'the visitor stays on the page');
  };
  await subscribe();

  // The confirmation link: a page with one button, in the site's look.
  await page.goto(await mailedLink(address, '/subscribe/confirm'));
  assert.equal(await page.getAttribute('body', 'data-page'), 'subscription');
  assert.equal(await page.locator('h1').textContent(), 'Confirm your subscription');
  assert.equal(await page.evaluate(() => document.styleSheets.length), 1, 'the site\'s stylesheet applies');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.querySelector('.site-header')).borderBottomStyle), 'none');
  await Promise.all([page.waitForLoadState('load'), page.locator('main form button[type="submit"]').click()]);
  await page.locator('h1', { hasText: 'Subscription confirmed' }).waitFor();
  await screenshot(page, 'subscription-confirmed');

  // Subscribing again sends the "already subscribed" note with an unsubscribe link.
  await page.goto(url(`/vi/posts/${post.vi}`));
  await subscribe();
  await page.goto(await mailedLink(address, '/unsubscribe'));
  assert.equal(await page.locator('h1').textContent(), 'Unsubscribe');
  await Promise.all([page.waitForLoadState('load'), page.locator('main form button[type="submit"]').click()]);
  await page.locator('h1', { hasText: 'You have been unsubscribed' }).waitFor();
  assert.deepEqual(visitor.problems, []);
  await visitor.context.close();
});

test('every kind of page loads without console errors or CSP violations, in both languages', async () => {
  const visitor = await person(browser);
  const page = await visitor.newPage();
  const pages = [];
  for (const l of ['en', 'vi']) {
    const slug = post[l];
    pages.push(`/${l}/`, `/${l}/?page=2`, `/${l}/posts/${slug}`, `/${l}/signup`, `/${l}/login`, `/${l}/account`);
  }
  pages.push('/en/tags/edge', '/vi/tags/browser');
  for (const p of pages) {
    const res = await page.goto(url(p));
    assert.equal(res.status(), 200, p);
    // Give the scripts time to run (the session check, the live socket).
    await page.waitForLoadState('networkidle');
  }
  const missing = await page.goto(url('/en/posts/no-such-post'));
  assert.equal(missing.status(), 404);
  assert.equal(await page.getAttribute('body', 'data-page'), 'notfound');
  await screenshot(page, 'not-found-en');
  // Chromium reports the 404 document itself as a failed load; nothing else may appear.
  const problems = visitor.problems.filter((p) => !(p.includes('/en/posts/no-such-post') && p.includes('status of 404')));
  assert.deepEqual(problems, []);
  await visitor.context.close();
});
