-- Sites (multi-tenancy). Owner: gateway (reads); written only by migrations and
-- the `sealpost-admin site` command. Every site-owned table carries `site_id`.
CREATE TABLE sites (
  id          TEXT PRIMARY KEY CHECK (id GLOB '[a-z0-9]*' AND length(id) BETWEEN 1 AND 32),
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);

-- Host name (lower-case, without port) -> site.
CREATE TABLE site_hosts (
  host     TEXT PRIMARY KEY,
  site_id  TEXT NOT NULL REFERENCES sites(id)
);

INSERT INTO sites (id, name, created_at) VALUES ('default', 'Sealpost', '2026-11-23T00:00:00Z');
INSERT INTO site_hosts (host, site_id) VALUES ('localhost', 'default'), ('127.0.0.1', 'default');
