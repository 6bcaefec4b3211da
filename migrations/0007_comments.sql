-- Comments (issue 6). Owner: comments — only the post's Durable Object
-- (`PostThread`, one per site and post) writes these tables. Site-owned.
-- Times are Unix milliseconds. docs/adr/0012.

-- The last serial handed out per post. A comment's serial is taken from
-- here in the same batch (one transaction) that inserts the comment, so a
-- serial is never reused: not after a deletion, a restart or hibernation,
-- and not even by two instances of the object (they cannot both win the
-- same increment). `last_comment_id` marks the insert that made `last`:
-- the comment INSERT of the batch applies only if the increment was ours.
CREATE TABLE comment_serials (
  site_id          TEXT    NOT NULL REFERENCES sites(id),
  post_id          TEXT    NOT NULL REFERENCES posts(id),
  last             INTEGER NOT NULL CHECK (last >= 1),
  last_comment_id  TEXT    NOT NULL,
  PRIMARY KEY (site_id, post_id)
);

-- One comment. Moderation is a soft delete (`deleted_at`, `deleted_by`):
-- the row keeps its serial; every listing leaves it out.
CREATE TABLE comments (
  id          TEXT    PRIMARY KEY,
  site_id     TEXT    NOT NULL REFERENCES sites(id),
  post_id     TEXT    NOT NULL REFERENCES posts(id),
  serial      INTEGER NOT NULL CHECK (serial >= 1),
  author_id   TEXT    NOT NULL REFERENCES users(id),
  parent_id   TEXT    REFERENCES comments(id),
  body        TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  created_at  INTEGER NOT NULL,
  deleted_at  INTEGER,
  deleted_by  TEXT    REFERENCES users(id),
  UNIQUE (site_id, post_id, serial)
);
-- Keyset pages and the live backfill: (site, post, serial) is the UNIQUE
-- index above. GET /me/activity:
CREATE INDEX comments_author ON comments (site_id, author_id, created_at)
  WHERE deleted_at IS NULL;
