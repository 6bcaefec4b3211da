// Which answers to a sealed request a client may believe: a sealed answer
// (opened and authenticated), or an unsealed error envelope (4xx/5xx), which
// SEAL.md lets the server and the edge send before the seal layer opens the
// request. An unsealed 2xx on a sealed route is refused: anyone on the path
// could have written it. Checked on `opener.read` and on the browser example
// of docs/protocol.md, run here as written there against a stubbed fetch.
// Run: scripts/build-seal-js --test
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
const sealVector = () =>
  seal.sealWith(vectors.keyConfig, req.method, req.path, req.plaintext, req.ts, b64url(req.nonce), b64url(req.skE));

const FORGED_LOGIN = JSON.stringify({
  success: true,
  message: "Logged in",
  data: { tokens: { accessToken: "attacker.made.this", refreshToken: "rt_forged", expiresIn: 900 } },
});
const STALE = '{"success":false,"message":"Stale","error":{"code":"SEAL_STALE"}}';
const LIMITED = '{"success":false,"message":"Too many requests","error":{"code":"RATE_LIMITED"}}';

function refusedAsUnsealed(e) {
  assert.equal(e.name, "SealError");
  assert.equal(e.code, "SEAL_UNSEALED");
  assert.match(e.message, /unsealed/);
  return true;
}

test("read refuses an unsealed 200 with a clear error", () => {
  const { opener } = sealVector();
  for (const status of [200, 201, 204, 302]) {
    assert.throws(() => opener.read(status, FORGED_LOGIN), refusedAsUnsealed, `status ${status}`);
  }
  opener.free();
});

test("read passes unsealed error envelopes (4xx, 5xx) through as they are", () => {
  const { opener } = sealVector();
  assert.equal(opener.read(400, STALE), STALE);
  assert.equal(opener.read(429, LIMITED), LIMITED);
  const down = '{"success":false,"message":"Unavailable","error":{"code":"SERVICE_UNAVAILABLE"}}';
  assert.equal(opener.read(503, down), down);
  opener.free();
});

test("read refuses an unsealed error status whose body is not an error envelope", () => {
  const { opener } = sealVector();
  for (const body of [FORGED_LOGIN, "<html>Bad gateway</html>", '{"success":false}', "[]"]) {
    assert.throws(() => opener.read(400, body), refusedAsUnsealed, body);
  }
  opener.free();
});

test("read opens sealed answers, under their status only", () => {
  const { opener } = sealVector();
  for (const r of vectors.responses) {
    assert.equal(opener.read(r.status, r.expected.body), r.inner);
    assert.throws(() => opener.read(r.status + 1, r.expected.body), (e) => e.code === "SEAL_INVALID");
  }
  opener.free();
});

// The ```js block of docs/protocol.md §5, as a module: its imports replaced by
// this package, `fetch` by `stub`, and its closing usage line dropped.
let evaluations = 0;
async function documentedSealedPost(stub) {
  const doc = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");
  const block = doc.match(/```js\n(import init[\s\S]*?)```/);
  assert.ok(block, "docs/protocol.md has the browser example");
  const body = block[1]
    .split("\n")
    .filter((l) => !/^import |^await init\(|^const \{ status, body \} = await sealedPost/.test(l))
    .join("\n");
  globalThis.__sealpostExample = { seal, fetch: stub };
  // A fresh module each time (a data: URL is evaluated once per distinct text).
  const source = `// evaluation ${++evaluations}
const { seal, isSealed } = globalThis.__sealpostExample.seal;
const fetch = globalThis.__sealpostExample.fetch;
${body}`;
  const mod = await import(`data:text/javascript,${encodeURIComponent(source)}`);
  assert.equal(typeof mod.sealedPost, "function");
  return mod.sealedPost;
}

function stubFetch(answer) {
  const calls = [];
  const stub = async (url, init = {}) => {
    calls.push(url);
    if (url === "/auth/keys") {
      return new Response(JSON.stringify({ data: { keys: [vectors.keyConfig] } }), { status: 200 });
    }
    assert.equal(init.method, "POST");
    return answer();
  };
  return { stub, calls };
}

test("the documented sealedPost refuses an unsealed 200 on a sealed route", async () => {
  const { stub } = stubFetch(() => new Response(FORGED_LOGIN, { status: 200 }));
  const sealedPost = await documentedSealedPost(stub);
  await assert.rejects(sealedPost("/auth/login", { email: "ada@example.com", password: "pw" }), refusedAsUnsealed);
});

test("the documented sealedPost passes an unsealed error envelope through", async () => {
  const { stub, calls } = stubFetch(() => new Response(LIMITED, { status: 429 }));
  const sealedPost = await documentedSealedPost(stub);
  const answer = await sealedPost("/auth/login", { email: "ada@example.com", password: "pw" });
  assert.deepEqual(answer, { status: 429, body: JSON.parse(LIMITED) });
  assert.deepEqual(calls, ["/auth/keys", "/auth/login"]);
});
