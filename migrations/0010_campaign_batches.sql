-- Campaign batches fixed until settled (docs/adr/0015). Owner: campaigns.
-- Times are Unix milliseconds.

-- One provider request: the emails sent together under one idempotency key
-- (Resend keys a whole POST /emails/batch, not each email). A batch is
-- written before its first send and never changes: every retry of any of
-- its members sends the same members, in the same order, composed from the
-- same inputs, under the same key. `body_digest` is the SHA-256 of the
-- composed emails, checked before every resend. `first_sent_at` starts the
-- provider's 24-hour key lifetime; `sends` counts provider calls.
CREATE TABLE campaign_batches (
  site_id          TEXT    NOT NULL,
  campaign_id      TEXT    NOT NULL,
  id               TEXT    NOT NULL,
  idempotency_key  TEXT    NOT NULL UNIQUE,
  origin           TEXT    NOT NULL,
  body_digest      TEXT    NOT NULL,
  first_sent_at    INTEGER NOT NULL,
  sends            INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, campaign_id, id),
  FOREIGN KEY (site_id, campaign_id) REFERENCES campaigns (site_id, id)
) WITHOUT ROWID;

-- A ledger row's place in its batch: the batch, its position, the locale it
-- was composed in and a copy of the sealed address it was sent to (the same
-- AES-256-GCM ciphertext as `subscribers.email_sealed`, cleared when the
-- row is settled), so a retry recomposes the identical email even after the
-- subscriber left or changed locale.
ALTER TABLE campaign_deliveries ADD COLUMN batch_id TEXT;
ALTER TABLE campaign_deliveries ADD COLUMN batch_pos INTEGER;
ALTER TABLE campaign_deliveries ADD COLUMN batch_locale TEXT;
ALTER TABLE campaign_deliveries ADD COLUMN batch_sealed TEXT;
CREATE INDEX deliveries_by_batch ON campaign_deliveries (site_id, campaign_id, batch_id, batch_pos);

-- Local development only: the fake provider now keys whole requests like
-- Resend. `dev_outbox` keeps every email it sent (no per-email dedup: a
-- resend after the key expired is a second email, as at Resend), and
-- `dev_batches` the answer of each key for 24 hours: the same key with the
-- same body answers it again without sending, with another body is refused
-- (409 invalid_idempotent_request), and while the first request is still
-- being processed (`answer` NULL) is refused (409
-- concurrent_idempotent_requests).
CREATE TABLE dev_outbox_v2 (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_key    TEXT    NOT NULL,
  provider_id  TEXT    NOT NULL UNIQUE,
  recipient    TEXT    NOT NULL,
  subject      TEXT    NOT NULL,
  text_body    TEXT    NOT NULL,
  html_body    TEXT    NOT NULL,
  headers      TEXT    NOT NULL,
  sent_at      INTEGER NOT NULL
);
INSERT INTO dev_outbox_v2 (seq, batch_key, provider_id, recipient, subject, text_body, html_body,
  headers, sent_at)
  SELECT seq, idempotency_key, provider_id, recipient, subject, text_body, html_body, headers,
  sent_at FROM dev_outbox;
DROP TABLE dev_outbox;
ALTER TABLE dev_outbox_v2 RENAME TO dev_outbox;
CREATE INDEX dev_outbox_by_recipient ON dev_outbox (recipient, seq);

CREATE TABLE dev_batches (
  idempotency_key  TEXT    PRIMARY KEY,
  body_digest      TEXT    NOT NULL,
  answer           TEXT,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL
);

-- The fake's faults gain the answers that must pause, not fail: 401 (a
-- revoked API key) and 403 (an unverified sending domain).
CREATE TABLE dev_faults_v2 (
  kind       TEXT    NOT NULL CHECK (kind IN ('5xx', '429', 'timeout', 'crash', '401', '403')),
  match      TEXT    NOT NULL CHECK (length(match) BETWEEN 1 AND 254),
  remaining  INTEGER NOT NULL CHECK (remaining >= 0),
  PRIMARY KEY (kind, match)
);
INSERT INTO dev_faults_v2 (kind, match, remaining) SELECT kind, match, remaining FROM dev_faults;
DROP TABLE dev_faults;
ALTER TABLE dev_faults_v2 RENAME TO dev_faults;
