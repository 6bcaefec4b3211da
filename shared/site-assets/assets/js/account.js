// account.js — the signup, login and account pages (module; loaded after
// app.js on those pages only).
//
// Owns: sealed calls (edge-seal v1 through the browser seal library,
// `import(config.sealJs)`), signup, login with the TOTP second step, handing
// the refresh token to the /session cookie BFF, and the account page
// (profile, sessions, sign-out, TOTP enrolment with a QR code, password).
//
// Shared helpers (api, accessToken, setAccess, signOut, t, errorText) come
// from app.js as `window.sealpost`: assets are fingerprinted, so a relative
// import cannot name app.js. The QR encoder is `import(config.qrJs)` when the
// page's config names it; without it the otpauth URI is shown as a link.

const sp = window.sealpost || await new Promise((resolve) => {
  document.addEventListener('sealpost:ready', () => resolve(window.sealpost), { once: true });
});
const { config, t, api, accessToken, setAccess, signOut, errorText, SESSION_HEADER } = sp;

const $ = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);

// ---- sealing -------------------------------------------------------------

let sealLib = null;
let keyConfig = null;

function loadSeal() {
  if (!sealLib) {
    sealLib = (async () => {
      const mod = await import(config.sealJs);
      await mod.default({ module_or_path: config.sealWasm });
      return mod;
    })();
    sealLib.catch(() => { sealLib = null; });
  }
  return sealLib;
}

async function keys(force) {
  if (keyConfig && !force) return keyConfig;
  const res = await api('GET', '/auth/keys');
  const first = res.json?.data?.keys?.[0];
  if (!res.ok || !first) throw new Error('keys');
  keyConfig = first;
  return keyConfig;
}

const failure = (code) => ({ status: 0, ok: false, json: { success: false, error: { code } } });

/**
 * A sealed POST of `body` to `path`: `{status, ok, json}` with the opened
 * inner envelope. Retries once after SEAL_STALE (stamped with the server's
 * Date) or SEAL_UNKNOWN_KEY (keys refetched). `auth`: send the bearer.
 */
async function sealed(path, body, { auth = false } = {}) {
  let mod;
  try { mod = await loadSeal(); await keys(false); } catch { return failure('SEAL_UNAVAILABLE'); }
  let ts = null;
  let forceKeys = false;
  let renewed = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    let key;
    try { key = await keys(forceKeys); } catch { return failure('SEAL_UNAVAILABLE'); }
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (auth) {
      const token = await accessToken();
      if (!token) return { status: 401, ok: false, json: { success: false, error: { code: 'AUTH_TOKEN_INVALID' } } };
      headers.Authorization = `Bearer ${token}`;
    }
    let envelope;
    let opener;
    try {
      ({ body: envelope, opener } = mod.seal(key, 'POST', path, JSON.stringify(body), ts));
    } catch {
      return failure('SEAL_INVALID');
    }
    let res;
    let text;
    try {
      res = await fetch(path, { method: 'POST', headers, body: envelope, credentials: 'same-origin' });
      text = await res.text();
    } catch {
      opener.free();
      return failure('NETWORK');
    }
    let json;
    try {
      json = JSON.parse(opener.read(res.status, text));
    } catch (e) {
      json = { success: false, error: { code: e?.code || 'SEAL_INVALID' } };
    } finally {
      opener.free();
    }
    const code = json?.error?.code;
    if (code === 'SEAL_STALE' && ts === null) {
      const server = Date.parse(res.headers.get('Date') || '');
      if (!Number.isNaN(server)) { ts = Math.floor(server / 1000); continue; }
    }
    if (code === 'SEAL_UNKNOWN_KEY' && !forceKeys) { forceKeys = true; continue; }
    if (auth && res.status === 401 && code === 'AUTH_TOKEN_INVALID' && !renewed) {
      // An expired access token: renew it through the cookie once.
      renewed = true;
      sp.clearAccess(false);
      continue;
    }
    return { status: res.status, ok: res.ok && json?.success !== false, json };
  }
  return failure('SEAL_INVALID');
}

// ---- signing in ----------------------------------------------------------

/** Hands the refresh token to the cookie, keeps the access token, opens the account page. */
async function startSession(tokens, errorBox) {
  let res;
  try {
    res = await fetch('/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...SESSION_HEADER },
      body: JSON.stringify({ refreshToken: tokens.refreshToken }),
      credentials: 'same-origin',
    });
  } catch { res = null; }
  if (!res || res.status !== 204) {
    const json = res ? await res.json().catch(() => null) : null;
    errorBox.textContent = errorText(json);
    return;
  }
  setAccess(tokens.accessToken, tokens.expiresIn);
  location.assign(config.accountPath || `/${config.lang}/account`);
}

/** Disables a form's submit button while `work` runs. */
async function busy(form, work) {
  const button = form.querySelector('button[type=submit]');
  if (button) button.disabled = true;
  try { await work(); } finally { if (button) button.disabled = false; }
}

function signupPage(form) {
  const errorBox = $('form-error');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    errorBox.textContent = '';
    busy(form, async () => {
      const body = {
        email: form.elements.email.value.trim(),
        password: form.elements.password.value,
        locale: config.lang,
      };
      const name = form.elements.displayName?.value.trim();
      if (name) body.displayName = name;
      const res = await sealed('/auth/signup', body);
      const tokens = res.json?.data?.tokens;
      if (!res.ok || !tokens) { errorBox.textContent = errorText(res.json); return; }
      await startSession(tokens, errorBox);
    });
  });
}

function loginPage(form) {
  const errorBox = $('form-error');
  const mfaForm = $('mfa-form');
  let mfaToken = null;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    errorBox.textContent = '';
    busy(form, async () => {
      const res = await sealed('/auth/login', {
        email: form.elements.email.value.trim(),
        password: form.elements.password.value,
      });
      const data = res.json?.data;
      if (!res.ok || !data) { errorBox.textContent = errorText(res.json); return; }
      if (data.mfaRequired) {
        mfaToken = data.mfaToken;
        form.hidden = true;
        if (mfaForm) { mfaForm.hidden = false; mfaForm.elements.code.focus(); }
        return;
      }
      await startSession(data.tokens, errorBox);
    });
  });
  mfaForm?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    errorBox.textContent = '';
    busy(mfaForm, async () => {
      const res = await sealed('/auth/login/mfa', { mfaToken, code: mfaForm.elements.code.value.trim() });
      const tokens = res.json?.data?.tokens;
      if (!res.ok || !tokens) {
        errorBox.textContent = errorText(res.json);
        mfaForm.elements.code.select();
        return;
      }
      await startSession(tokens, errorBox);
    });
  });
}

// ---- account page --------------------------------------------------------

const dateTime = new Intl.DateTimeFormat(config.intlLocale || config.lang, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
};

function goHome() {
  location.assign($('home-link')?.getAttribute('href') || `/${config.lang}/`);
}

async function accountPage(root) {
  const message = $('account-message', root);
  const say = (text) => { if (message) message.textContent = text; };
  const token = await accessToken();
  if (!token) return; // the signed-out block stays
  const me = await api('GET', '/auth/me', { auth: true });
  if (!me.ok || !me.json?.data) return;
  const user = me.json.data;
  const signedOut = $('account-signed-out');
  if (signedOut) signedOut.hidden = true;
  root.hidden = false;
  $('account-name', root).textContent = user.displayName || '';
  $('account-email', root).textContent = user.email || '';

  $('sign-out', root)?.addEventListener('click', async () => {
    await signOut();
    goHome();
  });

  // Sessions.
  const list = $('session-list', root);
  const loadSessions = async () => {
    const res = await api('GET', '/auth/sessions', { auth: true });
    if (!res.ok || !Array.isArray(res.json?.data)) { say(errorText(res.json)); return; }
    list.replaceChildren(...res.json.data.map((s) => {
      const li = document.createElement('li');
      li.dataset.testid = 'session';
      li.dataset.sessionId = String(s.id);
      if (s.current) li.dataset.current = 'true';
      const label = document.createElement('span');
      const parts = [s.userAgent || t('unknownDevice'), when(s.lastUsedAt || s.createdAt)].filter(Boolean);
      if (s.current) parts.push(`(${t('current')})`);
      label.textContent = parts.join(' · ');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.testid = 'revoke-session';
      button.textContent = t('revoke');
      button.addEventListener('click', async () => {
        button.disabled = true;
        if (s.current) { await signOut(); goHome(); return; }
        const res2 = await api('DELETE', `/auth/sessions/${encodeURIComponent(s.id)}`, { auth: true });
        button.disabled = false;
        if (res2.ok) { li.remove(); say(t('saved')); } else say(errorText(res2.json));
      });
      li.append(label, ' ', button);
      return li;
    }));
  };
  if (list) await loadSessions();

  // TOTP.
  const status = $('totp-status', root);
  const setupButton = $('totp-setup', root);
  const qr = $('totp-qr', root);
  const secret = $('totp-secret', root);
  const enableForm = $('totp-enable-form', root);
  const showMfa = (on) => {
    if (status) status.textContent = on ? t('totpEnabled') : t('totpOff');
    if (setupButton) setupButton.hidden = on;
    root.dataset.mfa = on ? 'on' : 'off';
  };
  showMfa(Boolean(user.mfaEnabled));
  setupButton?.addEventListener('click', async () => {
    setupButton.disabled = true;
    const res = await sealed('/auth/mfa/totp/setup', {}, { auth: true });
    setupButton.disabled = false;
    const data = res.json?.data;
    if (!res.ok || !data?.secret) { say(errorText(res.json)); return; }
    if (secret) secret.textContent = data.secret;
    if (qr) await drawQr(qr, data.otpauthUri || '');
    if (enableForm) { enableForm.hidden = false; enableForm.elements.code.focus(); }
  });
  enableForm?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(enableForm, async () => {
      const res = await sealed('/auth/mfa/totp/enable', { code: enableForm.elements.code.value.trim() }, { auth: true });
      if (!res.ok) { say(errorText(res.json)); enableForm.elements.code.select(); return; }
      enableForm.reset();
      enableForm.hidden = true;
      if (qr) qr.replaceChildren();
      if (secret) secret.textContent = '';
      showMfa(true);
      say(t('totpEnabled'));
    });
  });

  // Password.
  const pwForm = $('password-form', root);
  pwForm?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(pwForm, async () => {
      const res = await sealed('/auth/password', {
        currentPassword: pwForm.elements.currentPassword.value,
        newPassword: pwForm.elements.newPassword.value,
      }, { auth: true });
      if (!res.ok) { say(errorText(res.json)); return; }
      pwForm.reset();
      say(t('passwordChanged'));
      if (list) await loadSessions();
    });
  });
}

/** The otpauth URI as a QR code SVG (qr.js), or as a link when the encoder is not available. */
async function drawQr(box, uri) {
  box.replaceChildren();
  if (config.qrJs) {
    try {
      const qr = await import(config.qrJs);
      box.append(qr.svg(uri, 192, t('totpQrLabel')));
      return;
    } catch { /* fall back to the link */ }
  }
  const a = document.createElement('a');
  a.href = uri;
  a.textContent = uri;
  box.append(a);
}

// ---- start ---------------------------------------------------------------

const signupForm = $('signup-form');
if (signupForm) signupPage(signupForm);
const loginForm = $('login-form');
if (loginForm) loginPage(loginForm);
const account = document.querySelector('div[data-testid="account"]');
if (account) accountPage(account);
