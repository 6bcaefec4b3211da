-- Content (issue 5): posts, their per-language translations, tags and the
-- full-text index. Owner: content (the only writer). Site-owned. Times are
-- Unix milliseconds. docs/adr/0011.

-- One document. `status`: draft | scheduled | published | deleted (soft).
-- `version` grows by one on every change (optimistic concurrency: a PATCH
-- names the version it read). `edit_id` is the random mark of the last
-- change: the statements of one edit batch apply only if their own UPDATE of
-- this row (the version check) won. `publish_at` is set while scheduled;
-- `published_at` while published.
CREATE TABLE posts (
  id            TEXT    PRIMARY KEY,
  site_id       TEXT    NOT NULL REFERENCES sites(id),
  status        TEXT    NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'scheduled', 'published', 'deleted')),
  version       INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  edit_id       TEXT    NOT NULL,
  author_id     TEXT    NOT NULL REFERENCES users(id),
  publish_at    INTEGER,
  published_at  INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  deleted_at    INTEGER
);
CREATE INDEX posts_site_status_published ON posts (site_id, status, published_at);
CREATE INDEX posts_site_updated ON posts (site_id, updated_at);
-- The cron's claim: every site's due scheduled posts.
CREATE INDEX posts_due ON posts (status, publish_at);

-- One language version of a post. A slug is unique per site and language
-- (it stays taken while the post is soft-deleted). `body` is the Markdown
-- as written, `body_html` its safe rendering (made once, on write).
CREATE TABLE post_translations (
  id         INTEGER PRIMARY KEY,           -- stable rowid for the FTS index
  site_id    TEXT    NOT NULL REFERENCES sites(id),
  post_id    TEXT    NOT NULL REFERENCES posts(id),
  lang       TEXT    NOT NULL CHECK (lang IN ('en', 'vi')),
  slug       TEXT    NOT NULL CHECK (length(slug) BETWEEN 1 AND 100 AND slug NOT GLOB '*[^a-z0-9-]*'),
  title      TEXT    NOT NULL,
  excerpt    TEXT    NOT NULL DEFAULT '',
  body       TEXT    NOT NULL,
  body_html  TEXT    NOT NULL,
  UNIQUE (site_id, lang, slug),
  UNIQUE (post_id, lang)
);

-- Tags, in the order the editor gave them.
CREATE TABLE post_tags (
  site_id   TEXT    NOT NULL REFERENCES sites(id),
  post_id   TEXT    NOT NULL REFERENCES posts(id),
  tag       TEXT    NOT NULL,
  position  INTEGER NOT NULL,
  PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_tags_site_tag ON post_tags (site_id, tag);

-- Full-text search over title, excerpt and body of every translation
-- (external content: the index holds tokens only). Diacritics are folded, so
-- "viet" finds "Việt". Kept in step by the triggers below.
CREATE VIRTUAL TABLE post_fts USING fts5(
  title, excerpt, body,
  content = 'post_translations', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER post_translations_ai AFTER INSERT ON post_translations BEGIN
  INSERT INTO post_fts (rowid, title, excerpt, body)
    VALUES (new.id, new.title, new.excerpt, new.body);
END;
CREATE TRIGGER post_translations_ad AFTER DELETE ON post_translations BEGIN
  INSERT INTO post_fts (post_fts, rowid, title, excerpt, body)
    VALUES ('delete', old.id, old.title, old.excerpt, old.body);
END;
CREATE TRIGGER post_translations_au AFTER UPDATE ON post_translations BEGIN
  INSERT INTO post_fts (post_fts, rowid, title, excerpt, body)
    VALUES ('delete', old.id, old.title, old.excerpt, old.body);
  INSERT INTO post_fts (rowid, title, excerpt, body)
    VALUES (new.id, new.title, new.excerpt, new.body);
END;
