-- Accounts. Owner: auth (the only writer). Site-owned.
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  site_id        TEXT NOT NULL REFERENCES sites(id),
  email          TEXT NOT NULL,                 -- normalised: trimmed, lower-cased
  display_name   TEXT NOT NULL,
  locale         TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'vi')),
  password_hash  TEXT NOT NULL,                 -- Argon2id PHC string
  roles          TEXT NOT NULL DEFAULT '["member"]', -- JSON array of admin|editor|member
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  UNIQUE (site_id, email)
);
CREATE INDEX users_site_created ON users (site_id, created_at);
