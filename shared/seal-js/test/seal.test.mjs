// Node tests of the browser build (pkg/node, built by scripts/build-seal-js):
// the edge-seal v1 vectors through the JS API, its errors, and — with
// SEALPOST_URL set — a full round trip against a running stack.
// Run: scripts/build-seal-js --test   (or: node --test shared/seal-js/test/*.test.mjs)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const seal = require("../pkg/node/sealpost_seal.js");
const vectors = JSON.parse(
  readFileSync(new URL("../../seal/tests/vectors/edge-seal-v1.json", import.meta.url), "utf8"),
);
const req = vectors.request;
const b64url = (hex) => Buffer.from(hex, "hex").toString("base64url");

function sealVector(keyConfig = vectors.keyConfig) {
  return seal.sealWith(keyConfig, req.method, req.path, req.plaintext, req.ts, b64url(req.nonce), b64url(req.skE));
}

function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, "SealError");
    assert.equal(e.code, code);
    return true;
  });
}

test("sealWith gives exactly the vector envelope", () => {
  const { body, opener } = sealVector();
  assert.equal(body, req.expected.body);
  assert.deepEqual(JSON.parse(body), req.expected.envelope);
  opener.free();
});

test("the key configuration may be given as JSON text", () => {
  const { body, opener } = sealVector(JSON.stringify(vectors.keyConfig));
  assert.equal(body, req.expected.body);
  opener.free();
});

test("the opener opens every vector response, only under its status", () => {
  const { opener } = sealVector();
  for (const r of vectors.responses) {
    const text = r.expected.body;
    assert.equal(seal.isSealed(text), true);
    assert.equal(opener.open(r.status, text), r.inner);
    throwsCode(() => opener.open(r.status + 1, text), "SEAL_INVALID");
    const outer = JSON.parse(text);
    const ct = Buffer.from(outer.data.ct, "base64url");
    ct[0] ^= 1;
    outer.data.ct = ct.toString("base64url");
    throwsCode(() => opener.open(r.status, JSON.stringify(outer)), "SEAL_INVALID");
  }
  opener.free();
});

test("unsealed answers are told apart and refused by open", () => {
  const { opener } = sealVector();
  const plain = '{"success":false,"message":"Stale","error":{"code":"SEAL_STALE"}}';
  assert.equal(seal.isSealed(plain), false);
  assert.equal(seal.isSealed("not json"), false);
  throwsCode(() => opener.open(400, plain), "SEAL_MALFORMED");
  opener.free();
});

test("seal uses fresh randomness and the clock", () => {
  const a = seal.seal(vectors.keyConfig, "POST", "/auth/login", req.plaintext);
  const b = seal.seal(vectors.keyConfig, "POST", "/auth/login", req.plaintext);
  const ea = JSON.parse(a.body);
  const eb = JSON.parse(b.body);
  assert.deepEqual(Object.keys(ea), ["v", "kid", "enc", "ts", "nonce", "ct"]);
  assert.equal(ea.v, 1);
  assert.equal(ea.kid, vectors.keyConfig.kid);
  assert.notEqual(ea.enc, eb.enc);
  assert.notEqual(ea.nonce, eb.nonce);
  assert.ok(Math.abs(ea.ts - Date.now() / 1000) < 5);
  assert.equal(Buffer.from(ea.nonce, "base64url").length, 16);
  assert.equal(Buffer.from(ea.enc, "base64url").length, 65);
  const c = seal.seal(vectors.keyConfig, "POST", "/auth/login", req.plaintext, 1234567890);
  assert.equal(JSON.parse(c.body).ts, 1234567890);
  for (const x of [a, b, c]) x.opener.free();
});

test("argument errors", () => {
  throwsCode(() => seal.seal({ kid: 1 }, "POST", "/auth/login", "{}"), "TYPE_ERROR");
  throwsCode(() => seal.seal("not json", "POST", "/auth/login", "{}"), "TYPE_ERROR");
  throwsCode(() => seal.seal(vectors.keyConfig, "POST", "/auth/login", "{not json"), "TYPE_ERROR");
  throwsCode(() => seal.seal(vectors.keyConfig, "POST", "/auth/login", "{}", 1.5), "TYPE_ERROR");
  throwsCode(() => seal.seal({ ...vectors.keyConfig, aead: 1 }, "POST", "/auth/login", "{}"), "SEAL_UNSUPPORTED_VERSION");
  const badPoint = Buffer.alloc(65, 4).toString("base64url");
  throwsCode(() => seal.seal({ ...vectors.keyConfig, publicKey: badPoint }, "POST", "/auth/login", "{}"), "SEAL_INVALID");
  throwsCode(() => seal.seal({ ...vectors.keyConfig, publicKey: "AA==" }, "POST", "/auth/login", "{}"), "SEAL_MALFORMED");
});

const URL_ = process.env.SEALPOST_URL;
test("round trip against a running stack (SEALPOST_URL)", { skip: !URL_ && "SEALPOST_URL not set" }, async () => {
  const base = URL_.replace(/\/+$/, "");
  const keysRes = await fetch(`${base}/auth/keys`);
  assert.equal(keysRes.status, 200);
  const keys = (await keysRes.json()).data.keys;
  assert.ok(keys.length >= 1);
  const known = process.env.SEALPOST_EMAIL && process.env.SEALPOST_PASSWORD;
  const creds = known
    ? { email: process.env.SEALPOST_EMAIL, password: process.env.SEALPOST_PASSWORD }
    : { email: `node-${Date.now()}@example.com`, password: "not the password 0123456789" };
  let skew = 0;
  const post = async () => {
    const ts = Math.floor(Date.now() / 1000) + skew;
    const { body, opener } = seal.seal(keys[0], "POST", "/auth/login", JSON.stringify(creds), ts);
    const res = await fetch(`${base}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { res, text: await res.text(), opener };
  };
  let { res, text, opener } = await post();
  if (!seal.isSealed(text) && JSON.parse(text).error?.code === "SEAL_STALE") {
    skew = Math.round((Date.parse(res.headers.get("date")) - Date.now()) / 1000);
    opener.free();
    ({ res, text, opener } = await post());
  }
  assert.equal(seal.isSealed(text), true, text);
  const inner = JSON.parse(opener.open(res.status, text));
  opener.free();
  // SEALPOST_LOGIN_STATUS overrides the expected status (e.g. while login is not implemented).
  const want = Number(process.env.SEALPOST_LOGIN_STATUS || (known ? 200 : 401));
  assert.equal(res.status, want, JSON.stringify(inner));
  assert.equal(typeof inner, "object");
  if (want >= 400) {
    assert.equal(inner.success, false);
    assert.equal(typeof inner.error.code, "string");
  }
  if (want !== 200 && want !== 401) return;
  if (known) {
    assert.equal(inner.success, true);
    assert.ok(inner.data.tokens || inner.data.mfaRequired === true);
  } else {
    assert.equal(inner.success, false);
    assert.equal(inner.error.code, "AUTH_INVALID_CREDENTIALS");
    assert.equal(typeof inner.message, "string");
  }
});
