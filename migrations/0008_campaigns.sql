-- Campaigns (issue 7). Owner: campaigns (the only writer). Times are Unix
-- milliseconds. docs/adr/0013 (addresses at rest), 0014 (delivery ledger).

-- A subscriber of one site. The address is stored only encrypted
-- (`email_sealed`, AES-256-GCM) with a keyed blind index (`email_index`,
-- HMAC-SHA-256 of the normalised address) for lookups and uniqueness.
-- `confirm_nonce` ties confirmation links to one opt-in round: it changes
-- when an unsubscribed address subscribes again, so old links stop working.
-- `mail_tat` is the per-address email budget (GCRA theoretical arrival time).
CREATE TABLE subscribers (
  site_id          TEXT    NOT NULL REFERENCES sites(id),
  id               TEXT    NOT NULL,
  email_index      TEXT    NOT NULL,
  email_sealed     TEXT    NOT NULL,
  locale           TEXT    NOT NULL CHECK (locale IN ('en', 'vi')),
  status           TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
  confirm_nonce    TEXT    NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  confirmed_at     INTEGER,
  unsubscribed_at  INTEGER,
  mail_tat         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, id),
  UNIQUE (site_id, email_index)
) WITHOUT ROWID;
CREATE INDEX subscribers_by_status ON subscribers (site_id, status, created_at);
CREATE INDEX subscribers_by_created ON subscribers (site_id, created_at);

-- A campaign. `draft` → (`scheduled` →) `sending` ⇄ `paused` → `sent`.
-- The recipients are the subscribers confirmed at or before `started_at`;
-- `ledger_done` says every one of them has its ledger row. `failures` counts
-- consecutive provider failures (the breaker); `pauses` how often it tripped.
CREATE TABLE campaigns (
  site_id       TEXT    NOT NULL REFERENCES sites(id),
  id            TEXT    NOT NULL,
  subject_en    TEXT    NOT NULL,
  subject_vi    TEXT    NOT NULL,
  body_en       TEXT    NOT NULL,
  body_vi       TEXT    NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent')),
  scheduled_at  INTEGER,
  created_by    TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  started_at    INTEGER,
  finished_at   INTEGER,
  ledger_done   INTEGER NOT NULL DEFAULT 0 CHECK (ledger_done IN (0, 1)),
  failures      INTEGER NOT NULL DEFAULT 0,
  pauses        INTEGER NOT NULL DEFAULT 0,
  paused_until  INTEGER,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX campaigns_by_status ON campaigns (status, scheduled_at);
CREATE INDEX campaigns_by_created ON campaigns (site_id, created_at);

-- The delivery ledger: one row per (campaign, recipient), created once
-- (INSERT OR IGNORE) and moved `pending` → `sending` (claimed, with a lease)
-- → `sent` | `failed` | `skipped` (unsubscribed before its turn). A row is
-- sent only by the consumer holding its claim, with the provider
-- idempotency key `{site}:{campaign}:{subscriber}`.
CREATE TABLE campaign_deliveries (
  site_id        TEXT    NOT NULL,
  campaign_id    TEXT    NOT NULL,
  subscriber_id  TEXT    NOT NULL,
  status         TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  enqueued_at    INTEGER,
  claimed_at     INTEGER,
  claim_id       TEXT,
  sent_at        INTEGER,
  provider_id    TEXT,
  last_error     TEXT,
  PRIMARY KEY (site_id, campaign_id, subscriber_id),
  FOREIGN KEY (site_id, campaign_id) REFERENCES campaigns (site_id, id)
) WITHOUT ROWID;
CREATE INDEX deliveries_by_status ON campaign_deliveries (site_id, campaign_id, status, subscriber_id);

-- The provider's send-rate cap, shared by every consumer invocation: one
-- GCRA cell (theoretical arrival time) per provider.
CREATE TABLE send_rate (
  id      TEXT    PRIMARY KEY,
  tat_ms  INTEGER NOT NULL
);

-- Local development only (written only when DEV_MODE is on): the fake email
-- provider's inbox, deduplicated by idempotency key like the real provider,
-- and the faults it was told to inject (`5xx`, `429`, `timeout`: the email is
-- accepted but the answer is lost; `crash`: the consumer dies between the
-- provider's answer and recording it). A fault hits a batch only if one of
-- its recipients contains `match` (tests running side by side stay apart).
CREATE TABLE dev_outbox (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key  TEXT    NOT NULL UNIQUE,
  provider_id      TEXT    NOT NULL,
  recipient        TEXT    NOT NULL,
  subject          TEXT    NOT NULL,
  text_body        TEXT    NOT NULL,
  html_body        TEXT    NOT NULL,
  headers          TEXT    NOT NULL,
  sent_at          INTEGER NOT NULL
);
CREATE INDEX dev_outbox_by_recipient ON dev_outbox (recipient, seq);

CREATE TABLE dev_faults (
  kind       TEXT    NOT NULL CHECK (kind IN ('5xx', '429', 'timeout', 'crash')),
  match      TEXT    NOT NULL CHECK (length(match) BETWEEN 1 AND 254),
  remaining  INTEGER NOT NULL CHECK (remaining >= 0),
  PRIMARY KEY (kind, match)
);
