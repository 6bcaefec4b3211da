// app.js — Sealpost's page script, loaded as a module on every page.
//
// Owns: the session helper (access token in memory + sessionStorage
// `sealpost.access`, renewed through the /session cookie BFF), the nav's
// signed-in state, the read beacon, rating, live and posted comments, and the
// footer's subscribe form. Progressive: every page works without it.
//
// Sharing with account.js: assets are fingerprinted (`app.<hash>.js`), so a
// relative `import "./app.js"` cannot work. app.js is self-contained and
// publishes its helpers as `window.sealpost` (frozen), then dispatches
// `sealpost:ready` on `document`. account.js is loaded after app.js (module
// scripts run in document order) and falls back to waiting for that event.
//
// Talks to (same origin): POST /session/refresh, POST /posts/{id}/views,
// PUT /posts/{id}/rating, POST /posts/{id}/comments,
// WS /posts/{id}/comments/live, POST /subscribe. Every JSON answer may be the
// contract's error envelope `{success:false, message, error:{code}}`.

const config = readConfig();
const ACCESS_KEY = 'sealpost.access';
// A hint that this browser may hold a session cookie: without it a signed-out
// visitor's page does not POST /session/refresh (no 401 per page view).
const HINT_KEY = 'sealpost.session';
const VISITOR_KEY = 'sealpost.visitor';
const SESSION_HEADER = { 'X-Sealpost-Session': '1' };

function readConfig() {
  const el = document.getElementById('sealpost-config');
  let c = {};
  try { c = JSON.parse(el ? el.textContent : '{}') || {}; } catch { c = {}; }
  c.lang = c.lang || document.documentElement.lang || 'en';
  c.strings = c.strings || {};
  return c;
}

/** The script string `key` in the page's language. */
export function t(key) {
  return config.strings[key] || key;
}

/** The element with `data-testid=id` under `root`. */
function $(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}

function store(kind) {
  try { return kind === 'local' ? window.localStorage : window.sessionStorage; } catch { return null; }
}

// ---- session -------------------------------------------------------------

let access = loadAccess();
let refreshing = null;

function loadAccess() {
  try {
    const v = JSON.parse(store('session')?.getItem(ACCESS_KEY) || 'null');
    if (v && typeof v.token === 'string' && typeof v.exp === 'number') return v;
  } catch { /* unreadable: none */ }
  return null;
}

/** Keeps an access token valid for `expiresIn` seconds. */
export function setAccess(token, expiresIn) {
  access = { token, exp: Date.now() + Number(expiresIn || 0) * 1000 };
  store('session')?.setItem(ACCESS_KEY, JSON.stringify(access));
  store('local')?.setItem(HINT_KEY, '1');
}

/** Forgets the access token (and, when `signedOut`, the session hint). */
export function clearAccess(signedOut = true) {
  access = null;
  store('session')?.removeItem(ACCESS_KEY);
  if (signedOut) store('local')?.removeItem(HINT_KEY);
}

/** The current access token when it is still valid for 30 s, without asking. */
function freshToken() {
  return access && access.exp - 30_000 > Date.now() ? access.token : null;
}

/** A valid access token, renewed through the cookie when needed; null when signed out. */
export async function accessToken() {
  const now = freshToken();
  if (now) return now;
  if (!store('local')?.getItem(HINT_KEY)) return null;
  if (!refreshing) refreshing = refresh().finally(() => { refreshing = null; });
  return refreshing;
}

// The cookie's refresh token rotates on every use, so two tabs refreshing at
// once would present a spent token (reuse ends the session): serialise
// across tabs with a Web Lock, and take a token another tab just stored.
async function refresh() {
  const run = async () => {
    const again = loadAccess();
    if (again && again.exp - 30_000 > Date.now()) { access = again; return again.token; }
    let res;
    try {
      res = await fetch('/session/refresh', { method: 'POST', headers: SESSION_HEADER, credentials: 'same-origin' });
    } catch { return null; }
    const body = await res.json().catch(() => null);
    if (res.status === 200 && body?.data?.accessToken) {
      setAccess(body.data.accessToken, body.data.expiresIn);
      return body.data.accessToken;
    }
    if (res.status === 401 || res.status === 403) clearAccess(true);
    return null;
  };
  return navigator.locks ? navigator.locks.request('sealpost.refresh', run) : run();
}

/** The envelope's message for a failed answer, localised by code where the site has a text. */
export function errorText(json, fallbackKey = 'genericError') {
  const code = json?.error?.code;
  const byCode = {
    AUTH_INVALID_CREDENTIALS: 'invalidCredentials',
    AUTH_LOCKED: 'locked',
    EMAIL_TAKEN: 'emailTaken',
    AUTH_MFA_INVALID: 'mfaInvalid',
  }[code];
  if (byCode) return t(byCode);
  const field = Array.isArray(json?.errors) && json.errors[0]?.message;
  const msg = json?.error?.message || json?.message;
  if (code === 'VALIDATION_FAILED' && field) return `${json.errors[0].field}: ${field}`;
  return msg || t(fallbackKey);
}

/**
 * A JSON call to the API: `{status, ok, json, headers}`; never throws (a
 * network failure is status 0 with an INTERNAL envelope). `auth`: send the
 * bearer (an expired or revoked one is renewed once on 401).
 */
export async function api(method, path, { body, auth = false, headers = {} } = {}) {
  const send = async (token) => {
    const h = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (token) h.Authorization = `Bearer ${token}`;
    try {
      const res = await fetch(path, {
        method, headers: h, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = null; }
      return { status: res.status, ok: res.ok, json, headers: res.headers };
    } catch {
      return { status: 0, ok: false, json: { success: false, error: { code: 'NETWORK' } }, headers: new Headers() };
    }
  };
  if (!auth) return send(null);
  let token = await accessToken();
  if (!token) return { status: 401, ok: false, json: { success: false, error: { code: 'AUTH_TOKEN_INVALID' } }, headers: new Headers() };
  let res = await send(token);
  const code = res.json?.error?.code;
  if (res.status === 401 && code !== 'AUTH_INVALID_CREDENTIALS' && code !== 'AUTH_MFA_INVALID') {
    clearAccess(false);
    token = await accessToken();
    if (token) res = await send(token);
  }
  return res;
}

/** Ends the session: POST /session/end (with the bearer when there is one), then forget it. */
export async function signOut() {
  const token = freshToken();
  const h = { ...SESSION_HEADER };
  if (token) h.Authorization = `Bearer ${token}`;
  try { await fetch('/session/end', { method: 'POST', headers: h, credentials: 'same-origin' }); } catch { /* best effort */ }
  clearAccess(true);
}

// ---- nav -----------------------------------------------------------------

function showSignedIn(signedIn) {
  const set = (id, hidden) => { const el = $(id); if (el) el.hidden = hidden; };
  set('nav-login', signedIn);
  set('nav-signup', signedIn);
  set('nav-account', !signedIn);
  set('rating-controls', !signedIn);
  set('comment-form', !signedIn);
  const hideLink = (id) => {
    const a = $(id);
    if (!a) return;
    a.hidden = signedIn;
    const p = a.closest('p');
    if (p && p.children.length === 1) p.hidden = signedIn;
  };
  hideLink('rating-signin');
  hideLink('comment-signin');
  document.body.dataset.session = signedIn ? 'in' : 'out';
}

// ---- read beacon ---------------------------------------------------------

function visitorId() {
  const ls = store('local');
  let v = ls?.getItem(VISITOR_KEY);
  if (!v || !/^[A-Za-z0-9_-]{8,128}$/.test(v)) {
    v = crypto.randomUUID ? crypto.randomUUID()
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    ls?.setItem(VISITOR_KEY, v);
  }
  return v;
}

function readBeacon(article) {
  const id = article.dataset.postId;
  const key = `sealpost.viewed.${id}`;
  if (!id || store('session')?.getItem(key) || !('IntersectionObserver' in window)) return;
  let sent = false;
  let timer = null;
  const observers = [];
  const send = async () => {
    if (sent) return;
    sent = true;
    observers.forEach((o) => o.disconnect());
    const token = freshToken();
    const res = await api('POST', `/posts/${encodeURIComponent(id)}/views`, {
      body: { visitorId: visitorId() },
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    if (res.status !== 202) { sent = false; return; }
    store('session')?.setItem(key, '1');
    const count = $('view-count');
    if (count && res.json?.data?.counted !== false) {
      const n = parseInt(count.textContent.replace(/\D/g, ''), 10);
      if (Number.isFinite(n)) count.textContent = String(n + 1);
    }
  };
  // On screen for one second, in a visible tab.
  const onArticle = new IntersectionObserver((entries) => {
    const on = entries.some((e) => e.isIntersecting);
    clearTimeout(timer);
    if (on) timer = setTimeout(() => { if (document.visibilityState === 'visible') send(); }, 1000);
  });
  onArticle.observe(article);
  // Or the reader scrolled to the end of the body.
  const body = $('post-body', article);
  const end = body?.lastElementChild || body;
  const onEnd = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && window.scrollY > 0) send();
  });
  if (end) onEnd.observe(end);
  observers.push(onArticle, onEnd);
}

// ---- rating --------------------------------------------------------------

function rating(section, postId) {
  const controls = $('rating-controls', section);
  const message = $('rating-message', section);
  if (!controls || !postId) return;
  controls.addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-score]');
    if (!button) return;
    const score = Number(button.dataset.score);
    controls.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    const res = await api('PUT', `/posts/${encodeURIComponent(postId)}/rating`, { body: { score }, auth: true });
    controls.querySelectorAll('button').forEach((b) => {
      b.disabled = false;
      if (res.ok) b.setAttribute('aria-pressed', String(b === button));
    });
    if (!res.ok) { if (message) message.textContent = errorText(res.json, 'ratingFailed'); return; }
    if (message) message.textContent = t('ratingSaved');
    const r = res.json?.data?.rating;
    const avg = $('rating-average', section);
    const count = $('rating-count', section);
    if (avg && typeof r?.average === 'number') avg.textContent = `${r.average.toFixed(1)} ★`;
    if (count && typeof r?.count === 'number') count.textContent = String(r.count);
  });
}

// ---- comments ------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(config.intlLocale || config.lang, { day: 'numeric', month: 'long', year: 'numeric' });

function commentItem(c) {
  const li = document.createElement('li');
  li.dataset.testid = 'comment';
  li.dataset.serial = String(c.serial);
  li.dataset.commentId = String(c.id);
  const meta = document.createElement('p');
  meta.className = 'meta';
  const author = document.createElement('span');
  author.dataset.testid = 'comment-author';
  author.textContent = c.author?.displayName ?? '';
  const time = document.createElement('time');
  time.setAttribute('datetime', c.createdAt || '');
  const d = new Date(c.createdAt);
  time.textContent = Number.isNaN(d.getTime()) ? (c.createdAt || '') : dateFormat.format(d);
  meta.append(author, ' · ', time);
  const body = document.createElement('p');
  body.dataset.testid = 'comment-body';
  body.textContent = c.body ?? '';
  li.append(meta, body);
  return li;
}

function comments(section) {
  const postId = section.dataset.postId;
  const list = $('comment-list', section);
  const none = $('no-comments', section);
  const status = $('comment-status', section);
  if (!postId || !list) return;
  let newest = Number(list.dataset.newestSerial) || 0;

  const seen = (n) => {
    if (n > newest) { newest = n; list.dataset.newestSerial = String(n); }
  };
  const insert = (c) => {
    if (!c || c.id == null || typeof c.serial !== 'number') return;
    seen(c.serial);
    const dup = [...list.children].some((li) => li.dataset.commentId === String(c.id) || li.dataset.serial === String(c.serial));
    if (dup) return;
    const before = [...list.children].find((li) => Number(li.dataset.serial) < c.serial);
    list.insertBefore(commentItem(c), before || null);
    if (none) none.hidden = true;
  };
  const remove = (commentId) => {
    [...list.children].forEach((li) => { if (li.dataset.commentId === String(commentId)) li.remove(); });
    if (none) none.hidden = list.children.length > 0;
  };

  // Live: history after `since`, then events; reconnect with backoff from the newest serial seen.
  let ws = null;
  let attempt = 0;
  let retry = null;
  let stopped = false;
  const connect = () => {
    if (stopped || !('WebSocket' in window)) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/posts/${encodeURIComponent(postId)}/comments/live?since=${newest}`;
    try { ws = new WebSocket(url); } catch { schedule(); return; }
    ws.addEventListener('open', () => {
      attempt = 0;
      section.dataset.live = 'open';
      if (status && (!status.textContent || status.textContent === t('commentsReconnecting'))) status.textContent = t('commentsLive');
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg?.type === 'comment.created') insert(msg.comment);
      else if (msg?.type === 'comment.deleted') {
        if (typeof msg.serial === 'number') seen(msg.serial);
        remove(msg.commentId);
      }
    });
    ws.addEventListener('close', () => {
      ws = null;
      section.dataset.live = 'closed';
      if (stopped) return;
      if (status && (!status.textContent || status.textContent === t('commentsLive'))) status.textContent = t('commentsReconnecting');
      schedule();
    });
  };
  const schedule = () => {
    clearTimeout(retry);
    const base = Math.min(30_000, 1000 * 2 ** attempt);
    attempt += 1;
    retry = setTimeout(connect, base / 2 + Math.random() * (base / 2));
  };
  // Closed while the page is in the back/forward cache, reopened after.
  window.addEventListener('pagehide', () => { stopped = true; clearTimeout(retry); ws?.close(1000); });
  window.addEventListener('pageshow', (ev) => { if (ev.persisted) { stopped = false; attempt = 0; connect(); } });
  connect();

  // Posting.
  const form = $('comment-form', section);
  form?.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const area = form.elements.body;
    const text = area.value.trim();
    if (!text) return;
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    const res = await api('POST', `/posts/${encodeURIComponent(postId)}/comments`, { body: { body: text }, auth: true });
    if (button) button.disabled = false;
    if (res.status === 201) {
      area.value = '';
      insert(res.json?.data);
      if (status) status.textContent = t('commentPosted');
    } else if (status) {
      status.textContent = res.status === 429 ? t('commentTooFast') : errorText(res.json, 'commentFailed');
    }
  });
}

// ---- subscribe -----------------------------------------------------------

let turnstileLoad = null;
function loadTurnstile() {
  if (!turnstileLoad) {
    turnstileLoad = new Promise((resolve, reject) => {
      window.sealpostTurnstileLoaded = () => resolve(window.turnstile);
      const s = document.createElement('script');
      s.src = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit&onload=sealpostTurnstileLoaded';
      s.async = true;
      s.addEventListener('error', () => { turnstileLoad = null; reject(new Error('turnstile')); });
      document.head.append(s);
    });
  }
  return turnstileLoad;
}

function subscribe(form) {
  const message = $('subscribe-message', form);
  const box = $('turnstile', form);
  const key = config.turnstileSiteKey;
  let widget = null;
  let token = null;
  let waiting = [];
  const gotToken = (v) => { token = v; waiting.forEach((w) => w(v)); waiting = []; };
  const ensureWidget = async () => {
    if (!key || widget !== null || !box) return;
    widget = false;
    try {
      const ts = await loadTurnstile();
      widget = ts.render(box, {
        sitekey: key,
        callback: gotToken,
        'expired-callback': () => { token = null; },
        'error-callback': () => { token = null; },
      });
    } catch { widget = null; }
  };
  const nextToken = () => {
    if (!key) return Promise.resolve(config.devTurnstileToken || '');
    if (token) return Promise.resolve(token);
    return new Promise((resolve) => {
      waiting.push(resolve);
      setTimeout(() => resolve(null), 60_000);
    });
  };
  if (key) form.addEventListener('focusin', ensureWidget, { once: true });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = $('subscribe-submit', form);
    if (message) message.textContent = t('subscribeSending');
    if (button) button.disabled = true;
    await ensureWidget();
    const turnstileToken = await nextToken();
    if (key && !turnstileToken) {
      if (button) button.disabled = false;
      if (message) message.textContent = t('subscribeFailed');
      return;
    }
    const res = await api('POST', '/subscribe', {
      body: {
        email: form.elements.email.value.trim(),
        locale: form.elements.locale?.value || config.lang,
        turnstileToken,
      },
    });
    if (button) button.disabled = false;
    // A Turnstile token is single use.
    token = null;
    if (key && widget && window.turnstile) window.turnstile.reset(widget);
    if (res.status === 202) {
      if (message) message.textContent = t('subscribeDone');
      form.elements.email.value = '';
    } else if (message) {
      message.textContent = errorText(res.json, 'subscribeFailed');
    }
  });
}

// ---- start ---------------------------------------------------------------

window.sealpost = Object.freeze({ config, t, api, accessToken, setAccess, clearAccess, signOut, errorText, SESSION_HEADER });
document.dispatchEvent(new Event('sealpost:ready'));

const subscribeForm = $('subscribe-form');
if (subscribeForm) subscribe(subscribeForm);

const article = document.querySelector('article[data-testid="post"]');
if (article) readBeacon(article);
const ratingSection = $('rating');
if (ratingSection) rating(ratingSection, article?.dataset.postId);
const commentSection = document.querySelector('section[data-testid="comments"]');
if (commentSection) comments(commentSection);

accessToken().then((token) => showSignedIn(Boolean(token)), () => showSignedIn(false));
