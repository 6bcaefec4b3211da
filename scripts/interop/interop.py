#!/usr/bin/env python3
"""edge-seal v1 interoperability test with an independent HPKE implementation.

The HPKE layer here is pyhpke (pure Python on pyca/cryptography), not the Rust
crate; the response layer (HKDF + AES-256-GCM) is written from SEAL.md with the
standard library's hmac and cryptography's AESGCM. So this is a second,
independent implementation of the contract.

  interop.py vectors [--generate]  check shared/seal/tests/vectors/edge-seal-v1.json
                                   (--generate rewrites it; only when the vectors
                                   are meant to change)
  interop.py live URL              talk to a running stack: GET /auth/keys, a sealed
                                   POST /auth/login, open the sealed response, and
                                   the contract's refusals (SEAL_* codes)

Exit status 0 when every check passed, 1 on the first mismatch.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import hmac
import json
import os
import secrets
import struct
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey, KEMKeyPair
from pyhpke.kdf import KDF

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "shared/seal/tests/vectors/edge-seal-v1.json"

KEM, KDF_ID, AEAD = 0x0010, 0x0001, 0x0002
SUITE = CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
RESPONSE_LABEL = b"edge-seal v1 response"


class Mismatch(Exception):
    pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Mismatch(what)


def eq(got, want, what: str) -> None:
    if got != want:
        raise Mismatch(f"{what}: got {got!r}, want {want!r}")


# --- encodings ---------------------------------------------------------------

def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s: str) -> bytes:
    check(isinstance(s, str) and "=" not in s, f"not base64url without padding: {s!r}")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    check(b64(raw) == s, f"non-canonical base64url: {s!r}")
    return raw


# --- the contract, from SEAL.md ----------------------------------------------

def request_info(kid: int, method: str, path: str) -> bytes:
    return (b"edge-seal v1 request" + b"\x00" + bytes([kid]) + KEM.to_bytes(2, "big")
            + KDF_ID.to_bytes(2, "big") + AEAD.to_bytes(2, "big") + f"{method} {path}".encode())


def request_aad(ts: int, nonce_b64: str) -> bytes:
    return f"{ts}.{nonce_b64}".encode()


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def response_keys(secret: bytes, enc: bytes, response_nonce: bytes, aad: bytes, status: int) -> dict:
    salt = enc + response_nonce
    prk = hkdf_extract(salt, secret)
    return {
        "salt": salt, "prk": prk,
        "key": hkdf_expand(prk, b"key", 32), "iv": hkdf_expand(prk, b"nonce", 12),
        "aad": aad + b"." + str(status).encode(),
    }


def private_key(sk: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(sk, "big"), ec.SECP256R1())


def point(k: ec.EllipticCurvePrivateKey) -> bytes:
    return k.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class Opener:
    """The client's state for the response: exported secret, enc, request aad."""

    def __init__(self, secret: bytes, enc: bytes, aad: bytes):
        self.secret, self.enc, self.aad = secret, enc, aad

    def open_sealed(self, status: int, sealed: dict) -> bytes:
        check(isinstance(sealed, dict) and set(sealed) == {"v", "nonce", "ct"}, f"sealed response shape: {sealed!r}")
        eq(sealed["v"], 1, "sealed response v")
        nonce = unb64(sealed["nonce"])
        eq(len(nonce), 32, "response nonce length")
        k = response_keys(self.secret, self.enc, nonce, self.aad, status)
        return AESGCM(k["key"]).decrypt(k["iv"], unb64(sealed["ct"]), k["aad"])

    def open(self, status: int, body: bytes) -> bytes:
        outer = json.loads(body)
        check(isinstance(outer, dict) and set(outer) == {"success", "data"}, f"outer body shape: {body[:200]!r}")
        inner = self.open_sealed(status, outer["data"])
        inner_json = json.loads(inner)
        want = inner_json.get("success", True) if isinstance(inner_json, dict) else True
        eq(outer["success"], want, "outer success mirrors inner success")
        return inner


def seal_request(pk_r: bytes, kid: int, method: str, path: str, plaintext: bytes, ts: int,
                 nonce: bytes | None = None, sk_e: bytes | None = None) -> tuple[dict, Opener, dict]:
    """SEAL.md client steps 1-4 with pyhpke; returns (envelope, opener, trace)."""
    nonce = secrets.token_bytes(16) if nonce is None else nonce
    nonce_b64 = b64(nonce)
    info = request_info(kid, method, path)
    aad = request_aad(ts, nonce_b64)
    pkr = SUITE.kem.deserialize_public_key(pk_r)
    eks = None
    if sk_e is not None:
        k = private_key(sk_e)
        eks = KEMKeyPair(KEMKey.from_pyca_cryptography_key(k), KEMKey.from_pyca_cryptography_key(k.public_key()))
    enc, ctx = SUITE.create_sender_context(pkr, info=info, eks=eks)
    ct = ctx.seal(plaintext, aad=aad)
    secret = ctx.export(RESPONSE_LABEL, 32)
    env = {"v": 1, "kid": kid, "enc": b64(enc), "ts": ts, "nonce": nonce_b64, "ct": b64(ct)}
    trace = {"info": info, "aad": aad, "enc": enc, "ct": ct, "secret": secret}
    if eks is not None:
        # The key schedule's intermediates, for the vector file and docs/protocol.md
        # (pyhpke's own internals: its KEM's Encap and its key-schedule KDF).
        shared_secret, enc2 = SUITE.kem.encap(pkr, None, eks)
        eq(enc2, enc, "encap is deterministic")
        kdf = KDF(KDFId.HKDF_SHA256, b"HPKE" + struct.pack(">HHH", KEM, KDF_ID, AEAD))
        psk_id_hash = kdf.labeled_extract(b"", b"psk_id_hash", b"")
        ksc = b"\x00" + psk_id_hash + kdf.labeled_extract(b"", b"info_hash", info)
        sched = kdf.labeled_extract(shared_secret, b"secret", b"")
        trace.update({
            "shared_secret": shared_secret, "key_schedule_context": ksc,
            "key": kdf.labeled_expand(sched, b"key", ksc, 32),
            "base_nonce": ctx._nonce, "exporter_secret": ctx._exporter_secret,  # noqa: SLF001
        })
        eq(kdf.labeled_expand(sched, b"base_nonce", ksc, 12), ctx._nonce, "base_nonce")  # noqa: SLF001
    return env, Opener(secret, enc, aad), trace


def open_request(sk_r: bytes, env: dict, method: str, path: str) -> tuple[bytes, Opener]:
    """SEAL.md server side (rows 4 and 6) with pyhpke; returns (plaintext, sealer state)."""
    enc = unb64(env["enc"])
    aad = request_aad(env["ts"], env["nonce"])
    skr = KEMKey.from_pyca_cryptography_key(private_key(sk_r))
    ctx = SUITE.create_recipient_context(enc, skr, info=request_info(env["kid"], method, path))
    pt = ctx.open(unb64(env["ct"]), aad=aad)
    return pt, Opener(ctx.export(RESPONSE_LABEL, 32), enc, aad)


def seal_response(state: Opener, status: int, inner: bytes, response_nonce: bytes) -> tuple[dict, bytes, dict]:
    k = response_keys(state.secret, state.enc, response_nonce, state.aad, status)
    ct = AESGCM(k["key"]).encrypt(k["iv"], inner, k["aad"])
    sealed = {"v": 1, "nonce": b64(response_nonce), "ct": b64(ct)}
    inner_json = json.loads(inner)
    success = inner_json.get("success", True) if isinstance(inner_json, dict) else True
    body = json.dumps({"success": success, "data": sealed}, separators=(",", ":")).encode()
    return sealed, body, {**k, "ct": ct}


# --- part (a): the project's vectors -----------------------------------------

def seeded(label: str, n: int = 32) -> bytes:
    return hashlib.sha256(f"edge-seal v1 vector {label}".encode()).digest()[:n]


def vector_inputs() -> dict:
    return {
        "skR": seeded("skR").hex(), "skE": seeded("skE").hex(), "kid": 7,
        "method": "POST", "path": "/auth/login", "ts": 1795000000, "nonce": seeded("nonce", 16).hex(),
        "plaintext": json.dumps({"email": "ada@example.com", "password": "correct horse battery staple — mật khẩu"},
                                ensure_ascii=False, separators=(",", ":")),
    }


RESPONSE_INPUTS = [
    {"status": 200, "response_nonce": seeded("response nonce 200").hex(), "inner": json.dumps({
        "success": True, "message": "Logged in", "data": {
            "user": {"id": "usr_01", "email": "ada@example.com", "displayName": "Ada", "role": "member"},
            "tokens": {"accessToken": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "refreshToken": "rt_0123456789abcdef",
                       "expiresIn": 900}}}, separators=(",", ":"))},
    {"status": 401, "response_nonce": seeded("response nonce 401").hex(), "inner": json.dumps({
        "success": False, "message": "Invalid email or password",
        "error": {"code": "AUTH_INVALID_CREDENTIALS"}}, separators=(",", ":"))},
    {"status": 200, "response_nonce": seeded("response nonce query").hex(),
     "inner": json.dumps({"data": {"ok": True}}, separators=(",", ":"))},
]


def build_vectors() -> dict:
    i = vector_inputs()
    sk_r = bytes.fromhex(i["skR"])
    pk_r = point(private_key(sk_r))
    plaintext = i["plaintext"].encode()
    env, opener, tr = seal_request(pk_r, i["kid"], i["method"], i["path"], plaintext, i["ts"],
                                   bytes.fromhex(i["nonce"]), bytes.fromhex(i["skE"]))
    eq(b64(point(private_key(bytes.fromhex(i["skE"])))), env["enc"], "enc = pk(skE)")
    responses = []
    for r in RESPONSE_INPUTS:
        sealed, body, k = seal_response(opener, r["status"], r["inner"].encode(), bytes.fromhex(r["response_nonce"]))
        responses.append({**r, "expected": {
            "secret": opener.secret.hex(), "salt": k["salt"].hex(), "prk": k["prk"].hex(),
            "key": k["key"].hex(), "iv": k["iv"].hex(), "aad": k["aad"].decode(), "ct": k["ct"].hex(),
            "sealed": sealed, "body": body.decode()}})
    return {
        "description": "edge-seal v1 (SEAL.md) test vectors. Generated with pyhpke "
                       "(scripts/interop/interop.py vectors --generate); checked by cargo test -p sealpost-seal, "
                       "scripts/interop/run and the sealpost-seal-js Node test. Hex unless said otherwise; "
                       "plaintext and inner are UTF-8 JSON text.",
        "suite": {"kem": KEM, "kdf": KDF_ID, "aead": AEAD},
        "keyConfig": {"kid": i["kid"], "kem": KEM, "kdf": KDF_ID, "aead": AEAD, "publicKey": b64(pk_r),
                      "expiresAt": "2026-11-24T00:00:00Z"},
        "request": {**i, "pkR": pk_r.hex(), "expected": {
            "info": tr["info"].hex(), "aad": tr["aad"].decode(), "enc": tr["enc"].hex(),
            "sharedSecret": tr["shared_secret"].hex(), "keyScheduleContext": tr["key_schedule_context"].hex(),
            "key": tr["key"].hex(), "baseNonce": tr["base_nonce"].hex(), "exporterSecret": tr["exporter_secret"].hex(),
            "ct": tr["ct"].hex(), "responseSecret": tr["secret"].hex(), "envelope": env,
            "body": json.dumps(env, separators=(",", ":"))}},
        "responses": responses,
    }


def check_vectors(doc: dict) -> int:
    want = build_vectors()
    n = 0

    def walk(got, exp, where):
        nonlocal n
        if isinstance(exp, dict):
            check(isinstance(got, dict), f"{where}: not an object")
            eq(sorted(got), sorted(exp), f"{where}: keys")
            for k in exp:
                walk(got[k], exp[k], f"{where}.{k}")
        elif isinstance(exp, list):
            eq(len(got), len(exp), f"{where}: length")
            for j, (g, e) in enumerate(zip(got, exp)):
                walk(g, e, f"{where}[{j}]")
        else:
            eq(got, exp, where)
            n += 1

    walk({k: v for k, v in doc.items() if k != "description"},
         {k: v for k, v in want.items() if k != "description"}, "vectors")

    # The other direction: the recipient side of pyhpke opens the stored envelope,
    # and the stored responses open with the client's state.
    req = doc["request"]
    pt, state = open_request(bytes.fromhex(req["skR"]), req["expected"]["envelope"], req["method"], req["path"])
    eq(pt.decode(), req["plaintext"], "pyhpke opens the stored envelope")
    for r in doc["responses"]:
        eq(state.open(r["status"], r["expected"]["body"].encode()).decode(), r["inner"], "stored response opens")
        n += 1
        bad = Opener(state.secret, state.enc, state.aad)
        try:
            bad.open(r["status"] + 1, r["expected"]["body"].encode())
            raise Mismatch("a response opened under the wrong status")
        except Exception as e:  # noqa: BLE001 — InvalidTag expected
            if isinstance(e, Mismatch):
                raise
    # Tampering with any authenticated request field makes pyhpke's open fail.
    env = req["expected"]["envelope"]
    for field, value in [("kid", env["kid"] + 1), ("ts", env["ts"] + 1),
                         ("nonce", b64(bytes(16))), ("ct", b64(bytes([unb64(env["ct"])[0] ^ 1]) + unb64(env["ct"])[1:]))]:
        try:
            open_request(bytes.fromhex(req["skR"]), {**env, field: value}, req["method"], req["path"])
            raise Mismatch(f"envelope with a changed {field} opened")
        except Mismatch:
            raise
        except Exception:  # noqa: BLE001
            n += 1
    for method, path in [("PUT", req["path"]), (req["method"], "/auth/signup")]:
        try:
            open_request(bytes.fromhex(req["skR"]), env, method, path)
            raise Mismatch(f"envelope opened as {method} {path}")
        except Mismatch:
            raise
        except Exception:  # noqa: BLE001
            n += 1
    return n


# --- part (b): a running stack -------------------------------------------------

class Reply:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise Mismatch(f"HTTP {self.status}: body is not JSON: {self.body[:200]!r}") from e


def http(method: str, url: str, body: bytes | None = None) -> Reply:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.headers, e.read())


def expect_error(reply: Reply, status: int, code: str, what: str, opener: Opener | None = None) -> None:
    """An error answer: unsealed, or (when `opener` is given) possibly sealed."""
    eq(reply.status, status, f"{what}: HTTP status")
    body = reply.json()
    if opener is not None and isinstance(body, dict) and isinstance(body.get("data"), dict) and "ct" in body["data"]:
        body = json.loads(opener.open(reply.status, reply.body))
    check(isinstance(body, dict) and body.get("success") is False, f"{what}: not an error envelope: {body!r}")
    eq(body.get("error", {}).get("code"), code, f"{what}: error code")


def valid_envelope(inner: dict, status: int) -> None:
    check(isinstance(inner, dict), f"inner is not a JSON object: {inner!r}")
    if status >= 400:
        eq(inner.get("success"), False, "inner error envelope success")
        check(isinstance(inner.get("message"), str), "inner error envelope has a message")
        check(isinstance(inner.get("error", {}).get("code"), str), "inner error envelope has error.code")
    else:
        check(inner.get("success", True) is True, "inner success envelope")
        check("data" in inner, "inner success envelope has data")


def live(base: str) -> int:
    base = base.rstrip("/")
    n = 0
    keys = http("GET", f"{base}/auth/keys")
    eq(keys.status, 200, "GET /auth/keys status")
    cfgs = keys.json()["data"]["keys"]
    check(isinstance(cfgs, list) and cfgs, "GET /auth/keys lists at least one key")
    key = cfgs[0]
    eq((key["kem"], key["kdf"], key["aead"]), (KEM, KDF_ID, AEAD), "key suite")
    check(isinstance(key["kid"], int) and 0 <= key["kid"] <= 255, "kid is 0-255")
    pk_r = unb64(key["publicKey"])
    eq(len(pk_r), 65, "publicKey length")
    SUITE.kem.deserialize_public_key(pk_r)  # raises on an invalid point
    print(f"  keys: {len(cfgs)} (first kid {key['kid']}, expires {key['expiresAt']})")
    n += 1

    email_, password = os.environ.get("SEALPOST_EMAIL"), os.environ.get("SEALPOST_PASSWORD")
    known = bool(email_ and password)
    if not known:
        email_, password = f"interop-{secrets.token_hex(6)}@example.com", "not the password " + secrets.token_hex(8)
    login = json.dumps({"email": email_, "password": password}).encode()
    url = f"{base}/auth/login"
    skew = 0

    def post(pt: bytes, ts_shift: int = 0):
        env, opener, _ = seal_request(pk_r, key["kid"], "POST", "/auth/login", pt, int(time.time()) + skew + ts_shift)
        return env, opener, http("POST", url, json.dumps(env).encode())

    env, opener, reply = post(login)
    if reply.status == 400 and reply.json().get("error", {}).get("code") == "SEAL_STALE":
        # Resync with the server's clock from the Date header, as a client should.
        server = email.utils.parsedate_to_datetime(reply.headers["Date"]).timestamp()
        skew = int(server - time.time())
        env, opener, reply = post(login)
    want = int(os.environ.get("SEALPOST_LOGIN_STATUS", 200 if known else 401))
    check(reply.status != 400 or not str(reply.json().get("error", {}).get("code", "")).startswith("SEAL_"),
          f"sealed login refused: {reply.body[:300]!r}")
    inner = json.loads(opener.open(reply.status, reply.body))
    print(f"  sealed login: HTTP {reply.status}, inner opened: {json.dumps(inner)[:160]}")
    valid_envelope(inner, reply.status)
    eq(reply.status, want, "sealed login HTTP status")
    if want not in (200, 401):
        pass  # an overridden expectation (SEALPOST_LOGIN_STATUS): the envelope checks above suffice
    elif known:
        d = inner["data"]
        check("tokens" in d or d.get("mfaRequired") is True, "login answers tokens or mfaRequired")
    else:
        eq(inner["error"]["code"], "AUTH_INVALID_CREDENTIALS", "inner error code")
    n += 1

    # The contract's refusals, in the order of its check table.
    r = http("POST", url, json.dumps(env).encode())
    expect_error(r, 409, "SEAL_REPLAY", "replayed envelope", opener)
    r = http("POST", url, login)
    expect_error(r, 400, "SEAL_REQUIRED", "plain JSON body")
    r = http("POST", url, b'{"v":1,"kid":0}')
    expect_error(r, 400, "SEAL_MALFORMED", "envelope missing fields")
    r = http("POST", url, b"x" * (64 * 1024 + 1))
    expect_error(r, 413, "PAYLOAD_TOO_LARGE", "body over 64 KiB")
    e2, _, _ = seal_request(pk_r, key["kid"], "POST", "/auth/login", login, int(time.time()) + skew)
    r = http("POST", url, json.dumps({**e2, "v": 2}).encode())
    expect_error(r, 400, "SEAL_UNSUPPORTED_VERSION", "v = 2")
    live_kids = {c["kid"] for c in cfgs}
    other = next(k for k in range(256) if k not in live_kids)
    r = http("POST", url, json.dumps({**e2, "kid": other}).encode())
    expect_error(r, 400, "SEAL_UNKNOWN_KEY", "unknown kid")
    r = http("POST", url, json.dumps({**e2, "enc": b64(b"\x04" + bytes(64))}).encode())
    expect_error(r, 400, "SEAL_INVALID", "enc not on the curve")
    stale, _, _ = seal_request(pk_r, key["kid"], "POST", "/auth/login", login, int(time.time()) + skew - 3600)
    r = http("POST", url, json.dumps(stale).encode())
    expect_error(r, 400, "SEAL_STALE", "ts an hour old")
    check(r.headers.get("Date") is not None, "SEAL_STALE carries a Date header")
    ct = unb64(e2["ct"])
    r = http("POST", url, json.dumps({**e2, "ct": b64(ct[:-1] + bytes([ct[-1] ^ 1]))}).encode())
    expect_error(r, 400, "SEAL_INVALID", "tampered ct")
    e3, _, _ = seal_request(pk_r, key["kid"], "POST", "/auth/signup", login, int(time.time()) + skew)
    r = http("POST", url, json.dumps(e3).encode())
    expect_error(r, 400, "SEAL_INVALID", "envelope sealed for another path")
    print("  refusals: SEAL_REPLAY, SEAL_REQUIRED, SEAL_MALFORMED, PAYLOAD_TOO_LARGE, SEAL_UNSUPPORTED_VERSION, "
          "SEAL_UNKNOWN_KEY, SEAL_INVALID (point, ct, path), SEAL_STALE")
    return n + 10


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vectors")
    v.add_argument("--generate", action="store_true")
    lv = sub.add_parser("live")
    lv.add_argument("url")
    a = p.parse_args()
    try:
        if a.cmd == "vectors":
            if a.generate:
                VECTORS.write_text(json.dumps(build_vectors(), indent=2, ensure_ascii=False) + "\n")
                print(f"wrote {VECTORS.relative_to(ROOT)}")
                return 0
            n = check_vectors(json.loads(VECTORS.read_text()))
            print(f"interop vectors: {n} passed, 0 failed")
        else:
            n = live(a.url)
            print(f"interop live {a.url}: {n} passed, 0 failed")
        return 0
    except Mismatch as e:
        print(f"interop {a.cmd}: MISMATCH: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
