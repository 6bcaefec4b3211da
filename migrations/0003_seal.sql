-- edge-seal v1 (SEAL.md). Owner: auth. Global tables: the handshake belongs to
-- the deployment, not to a site. See docs/adr/0007 and 0008.

-- Server key pairs. The private key is wrapped (AES-256-GCM under the
-- SEAL_KEY_WRAP secret); the row is deleted once the key leaves its grace
-- period, which destroys the key.
CREATE TABLE seal_keys (
  kid          INTEGER PRIMARY KEY CHECK (kid BETWEEN 0 AND 255),
  public_key   TEXT    NOT NULL,  -- base64url, 65-byte SEC1
  private_key  TEXT    NOT NULL,  -- base64url(nonce || AES-256-GCM(wrap, sk, aad "edge-seal key v1:<kid>"))
  created_at   INTEGER NOT NULL,  -- Unix ms
  rotate_at    INTEGER NOT NULL,  -- Unix ms: the cron replaces the key after this
  expires_at   INTEGER NOT NULL   -- Unix ms: accepted until (the newest key is always accepted)
);

-- Request nonces seen after a successful open: a second use is a replay.
CREATE TABLE seal_nonces (
  nonce       TEXT    PRIMARY KEY,  -- base64url, as sent
  expires_at  INTEGER NOT NULL      -- Unix seconds; purged by the auth cron
);
CREATE INDEX seal_nonces_expiry ON seal_nonces (expires_at);
