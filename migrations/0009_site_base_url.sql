-- Each site's canonical base URL: the absolute origin (`https://host[:port]`,
-- no path) that every link it sends starts with (confirmation, unsubscribe).
-- Written only by `scripts/site --base-url` (validated there: sealpost-admin
-- site-sql); required outside dev mode, where `/health` reports a site without
-- one as down. NULL until the operator sets it: never derived from a host.
ALTER TABLE sites ADD COLUMN base_url TEXT
  CHECK (base_url IS NULL OR base_url GLOB 'https://?*' OR base_url GLOB 'http://?*');
