-- Auth: sessions, refresh tokens, TOTP, limits and the audit log. Owner: auth
-- (the only writer; other workers read `sessions` and `users.roles` to honour
-- revocation, docs/adr/0009). Site-owned. Times are Unix milliseconds.

-- TOTP: the secret sealed with AES-256-GCM under a key derived from the
-- AUTH_DATA_KEY secret (bound to the user id); `mfa_pending` holds the secret
-- of a setup until it is enabled; `mfa_last_step` makes every code single-use.
ALTER TABLE users ADD COLUMN mfa_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_pending TEXT;
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER;

-- One row per login session (= one refresh-token family).
CREATE TABLE sessions (
  id             TEXT    PRIMARY KEY,
  site_id        TEXT    NOT NULL REFERENCES sites(id),
  user_id        TEXT    NOT NULL REFERENCES users(id),
  amr            TEXT    NOT NULL,          -- JSON: ["pwd"] or ["pwd","otp"]
  created_at     INTEGER NOT NULL,
  last_used_at   INTEGER NOT NULL,          -- idle expiry: + 7 days
  expires_at     INTEGER NOT NULL,          -- absolute expiry: created + 30 days
  user_agent     TEXT    NOT NULL DEFAULT '',
  ip_hash        TEXT    NOT NULL DEFAULT '',
  revoked_at     INTEGER,
  revoke_reason  TEXT
);
CREATE INDEX sessions_user ON sessions (site_id, user_id, last_used_at);

-- Refresh tokens, stored only as SHA-256 hashes. A rotated token keeps
-- `rotated_at` and the hash of its successor (`next_hash`): reuse detection.
CREATE TABLE refresh_tokens (
  hash        TEXT    PRIMARY KEY,
  site_id     TEXT    NOT NULL REFERENCES sites(id),
  session_id  TEXT    NOT NULL REFERENCES sessions(id),
  created_at  INTEGER NOT NULL,
  rotated_at  INTEGER,
  next_hash   TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (site_id, session_id);

-- Pending second factor after a password login: the mfaToken, hashed.
CREATE TABLE mfa_challenges (
  hash        TEXT    PRIMARY KEY,
  site_id     TEXT    NOT NULL REFERENCES sites(id),
  user_id     TEXT    NOT NULL REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  used_at     INTEGER
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);

-- Recovery codes, HMAC-hashed; single use.
CREATE TABLE recovery_codes (
  site_id    TEXT    NOT NULL REFERENCES sites(id),
  user_id    TEXT    NOT NULL REFERENCES users(id),
  code_hash  TEXT    NOT NULL,
  used_at    INTEGER,
  PRIMARY KEY (site_id, user_id, code_hash)
);

-- Fixed-window counters: per-IP limits and failed logins per e-mail
-- (lockout). Keys never hold a raw IP or address (keyed hashes).
CREATE TABLE auth_counters (
  site_id       TEXT    NOT NULL REFERENCES sites(id),
  key           TEXT    NOT NULL,
  window_at     INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  locked_until  INTEGER,
  PRIMARY KEY (site_id, key)
);
CREATE INDEX auth_counters_window ON auth_counters (window_at);

-- Security events. Never a secret: no password, token, code or hash of one.
CREATE TABLE audit_events (
  id          TEXT    PRIMARY KEY,
  site_id     TEXT    NOT NULL REFERENCES sites(id),
  at          INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  user_id     TEXT,
  actor_id    TEXT,
  request_id  TEXT    NOT NULL DEFAULT '',
  ip_hash     TEXT    NOT NULL DEFAULT '',
  user_agent  TEXT    NOT NULL DEFAULT '',
  detail      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_site_at ON audit_events (site_id, at);
CREATE INDEX audit_site_type_at ON audit_events (site_id, type, at);
CREATE INDEX audit_site_user_at ON audit_events (site_id, user_id, at);
