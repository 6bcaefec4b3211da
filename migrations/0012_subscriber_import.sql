-- Subscribers an admin imported (POST /admin/subscribers/import). Owner:
-- campaigns. `consent` is the admin's note of how these people agreed to
-- receive the newsletter (kept as evidence, exported with them); NULL for a
-- subscriber who confirmed through the double opt-in link.
ALTER TABLE subscribers ADD COLUMN consent TEXT;
