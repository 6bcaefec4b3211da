-- Campaigns that can be cancelled and tested (docs/adr/0023). Owner:
-- campaigns. Times are Unix milliseconds.
--
-- SQLite cannot change a CHECK constraint in place, so `campaigns` and
-- `campaign_deliveries` are rebuilt with the new status `cancelled`: each
-- table's rows are copied aside, the table is dropped and created again
-- under its own name, and the rows go back (every column kept). Foreign
-- keys are checked when this migration's transaction ends: dropping
-- `campaigns` orphans its children for a moment, and putting its rows back
-- (into the table of that name, which the children refer to) settles them.
PRAGMA defer_foreign_keys = on;

CREATE TABLE campaigns_rows AS SELECT * FROM campaigns;
CREATE TABLE campaign_deliveries_rows AS SELECT * FROM campaign_deliveries;
DROP TABLE campaign_deliveries;
DROP TABLE campaigns;

-- A campaign. `draft` → (`scheduled` →) `sending` ⇄ `paused` → `sent`, or
-- `cancelled` from any state before `sent`.
CREATE TABLE campaigns (
  site_id       TEXT    NOT NULL REFERENCES sites(id),
  id            TEXT    NOT NULL,
  subject_en    TEXT    NOT NULL,
  subject_vi    TEXT    NOT NULL,
  body_en       TEXT    NOT NULL,
  body_vi       TEXT    NOT NULL,
  status        TEXT    NOT NULL
                CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
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
INSERT INTO campaigns (site_id, id, subject_en, subject_vi, body_en, body_vi, status,
  scheduled_at, created_by, created_at, updated_at, started_at, finished_at, ledger_done,
  failures, pauses, paused_until)
SELECT site_id, id, subject_en, subject_vi, body_en, body_vi, status,
  scheduled_at, created_by, created_at, updated_at, started_at, finished_at, ledger_done,
  failures, pauses, paused_until
FROM campaigns_rows;

-- The delivery ledger; a row the cancel stopped before it was claimed is
-- `cancelled` (a claimed row still ends `sent` or `failed`, once).
CREATE TABLE campaign_deliveries (
  site_id        TEXT    NOT NULL,
  campaign_id    TEXT    NOT NULL,
  subscriber_id  TEXT    NOT NULL,
  status         TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  enqueued_at    INTEGER,
  claimed_at     INTEGER,
  claim_id       TEXT,
  sent_at        INTEGER,
  provider_id    TEXT,
  last_error     TEXT,
  batch_id       TEXT,
  batch_pos      INTEGER,
  batch_locale   TEXT,
  batch_sealed   TEXT,
  PRIMARY KEY (site_id, campaign_id, subscriber_id),
  FOREIGN KEY (site_id, campaign_id) REFERENCES campaigns (site_id, id)
) WITHOUT ROWID;
INSERT INTO campaign_deliveries (site_id, campaign_id, subscriber_id, status, attempts,
  enqueued_at, claimed_at, claim_id, sent_at, provider_id, last_error, batch_id, batch_pos,
  batch_locale, batch_sealed)
SELECT site_id, campaign_id, subscriber_id, status, attempts,
  enqueued_at, claimed_at, claim_id, sent_at, provider_id, last_error, batch_id, batch_pos,
  batch_locale, batch_sealed
FROM campaign_deliveries_rows;
DROP TABLE campaign_deliveries_rows;
DROP TABLE campaigns_rows;
CREATE INDEX campaigns_by_status ON campaigns (status, scheduled_at);
CREATE INDEX campaigns_by_created ON campaigns (site_id, created_at);
CREATE INDEX deliveries_by_status ON campaign_deliveries (site_id, campaign_id, status, subscriber_id);
CREATE INDEX deliveries_by_batch ON campaign_deliveries (site_id, campaign_id, batch_id, batch_pos);

-- Test sends of a campaign (`POST /admin/campaigns/{id}/test`), kept for an
-- hour to count a site's test sends against their limit. The address is not
-- kept.
CREATE TABLE campaign_test_sends (
  site_id      TEXT    NOT NULL REFERENCES sites(id),
  id           TEXT    NOT NULL,
  campaign_id  TEXT    NOT NULL,
  sent_at      INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX test_sends_by_time ON campaign_test_sends (site_id, sent_at);
