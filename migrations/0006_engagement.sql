-- Engagement (issue 5): ratings and read counts. Owner: content (the only
-- writer). Site-owned. Times are Unix milliseconds. docs/adr/0011.

-- Aggregates on the post, kept exact: every rating write recomputes
-- `rating_sum` and `rating_count` from `post_ratings` in the same batch (one
-- transaction); `view_count` grows by one only when a view row was new.
ALTER TABLE posts ADD COLUMN rating_sum   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN view_count   INTEGER NOT NULL DEFAULT 0;

-- One rating per user per post; a second one replaces the first.
CREATE TABLE post_ratings (
  site_id     TEXT    NOT NULL REFERENCES sites(id),
  post_id     TEXT    NOT NULL REFERENCES posts(id),
  user_id     TEXT    NOT NULL REFERENCES users(id),
  score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (site_id, post_id, user_id)
);
-- GET /me/activity.
CREATE INDEX post_ratings_user ON post_ratings (site_id, user_id, updated_at);

-- One row per visitor per post. `visitor_hash` is HMAC-SHA-256 under the
-- content secret VISITOR_KEY (hex): the raw visitor id is never stored.
-- `user_id` is the signed-in reader, when the view carried a valid token.
-- `marker` is the random mark of the insert that made the row: the
-- `view_count` increment of the same batch applies only if it is ours.
CREATE TABLE post_views (
  site_id       TEXT    NOT NULL REFERENCES sites(id),
  post_id       TEXT    NOT NULL REFERENCES posts(id),
  visitor_hash  TEXT    NOT NULL,
  user_id       TEXT    REFERENCES users(id),
  marker        TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (site_id, post_id, visitor_hash)
);
-- GET /me/activity.
CREATE INDEX post_views_user ON post_views (site_id, user_id, created_at)
  WHERE user_id IS NOT NULL;
