// qr.js — a small QR Code encoder (ISO/IEC 18004) for the TOTP enrolment
// page: byte mode, error correction level M, versions 1–10 (up to 213 bytes,
// ample for an otpauth:// URI), all eight masks scored by the standard
// penalty rules. Loaded by account.js through `import(config.qrJs)`.
//
// Exports: `encode(text)` → {size, dark(x, y)}; `svg(text, px)` → an
// <svg> element built with DOM APIs (no innerHTML, no style attributes).
// The structure follows Project Nayuki's reference qrcodegen.

// [total codewords, EC codewords per block, [blocks, data codewords]...] at level M.
const VERSIONS = [
  null,
  [26, 10, [1, 16]],
  [44, 16, [1, 28]],
  [70, 26, [1, 44]],
  [100, 18, [2, 32]],
  [134, 24, [2, 43]],
  [172, 16, [4, 27]],
  [196, 18, [4, 31]],
  [242, 22, [2, 38], [2, 39]],
  [292, 22, [3, 36], [2, 37]],
  [346, 26, [4, 43], [1, 44]],
];
const ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];
const EC_M = 0; // format bits of level M

function dataCapacity(v) {
  return VERSIONS[v].slice(2).reduce((n, [blocks, len]) => n + blocks * len, 0);
}

// GF(256) with x^8 + x^4 + x^3 + x^2 + 1.
function gfMul(x, y) {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

function rsDivisor(degree) {
  const result = new Array(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      result[j] = gfMul(result[j], root);
      if (j + 1 < degree) result[j] ^= result[j + 1];
    }
    root = gfMul(root, 0x02);
  }
  return result;
}

function rsRemainder(data, divisor) {
  const result = new Array(divisor.length).fill(0);
  for (const b of data) {
    const factor = b ^ result.shift();
    result.push(0);
    divisor.forEach((coef, i) => { result[i] ^= gfMul(coef, factor); });
  }
  return result;
}

/** The data codewords of `bytes` for version `v`: mode, count, bytes, terminator, padding. */
function dataCodewords(bytes, v) {
  const capBits = dataCapacity(v) * 8;
  const bits = [];
  const put = (val, len) => { for (let i = len - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
  put(0b0100, 4);
  put(bytes.length, v <= 9 ? 8 : 16);
  bytes.forEach((b) => put(b, 8));
  put(0, Math.min(4, capBits - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capBits; pad ^= 0xec ^ 0x11) put(pad, 8);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  return out;
}

/** Data split into blocks, each with its EC codewords, interleaved. */
function interleave(data, v) {
  const [, ecLen, ...groups] = VERSIONS[v];
  const divisor = rsDivisor(ecLen);
  const blocks = [];
  let k = 0;
  for (const [count, len] of groups) {
    for (let b = 0; b < count; b++) {
      const d = data.slice(k, k + len);
      k += len;
      blocks.push({ d, ec: rsRemainder(d, divisor) });
    }
  }
  const out = [];
  const maxLen = Math.max(...blocks.map((b) => b.d.length));
  for (let i = 0; i < maxLen; i++) blocks.forEach((b) => { if (i < b.d.length) out.push(b.d[i]); });
  for (let i = 0; i < ecLen; i++) blocks.forEach((b) => out.push(b.ec[i]));
  return out;
}

function mask(m, x, y) {
  switch (m) {
    case 0: return (x + y) % 2 === 0;
    case 1: return y % 2 === 0;
    case 2: return x % 3 === 0;
    case 3: return (x + y) % 3 === 0;
    case 4: return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0;
    case 5: return ((x * y) % 2) + ((x * y) % 3) === 0;
    case 6: return (((x * y) % 2) + ((x * y) % 3)) % 2 === 0;
    default: return (((x + y) % 2) + ((x * y) % 3)) % 2 === 0;
  }
}

class Grid {
  constructor(v) {
    this.v = v;
    this.size = v * 4 + 17;
    this.mod = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.fn = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }

  setFn(x, y, dark) {
    this.mod[y][x] = dark;
    this.fn[y][x] = true;
  }

  drawFunctionPatterns() {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      this.setFn(6, i, i % 2 === 0);
      this.setFn(i, 6, i % 2 === 0);
    }
    for (const [cx, cy] of [[3, 3], [n - 4, 3], [3, n - 4]]) {
      for (let dy = -4; dy <= 4; dy++) {
        for (let dx = -4; dx <= 4; dx++) {
          const x = cx + dx;
          const y = cy + dy;
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const dist = Math.max(Math.abs(dx), Math.abs(dy));
          this.setFn(x, y, dist !== 2 && dist !== 4);
        }
      }
    }
    const pos = ALIGN[this.v];
    const last = pos.length - 1;
    pos.forEach((ax, i) => pos.forEach((ay, j) => {
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) this.setFn(ax + dx, ay + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }
    }));
    this.drawFormat(0);
    this.drawVersion();
  }

  drawFormat(m) {
    const data = (EC_M << 3) | m;
    let rem = data;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const bits = ((data << 10) | rem) ^ 0x5412;
    const bit = (i) => ((bits >>> i) & 1) !== 0;
    const n = this.size;
    for (let i = 0; i <= 5; i++) this.setFn(8, i, bit(i));
    this.setFn(8, 7, bit(6));
    this.setFn(8, 8, bit(7));
    this.setFn(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.setFn(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.setFn(n - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.setFn(8, n - 15 + i, bit(i));
    this.setFn(8, n - 8, true);
  }

  drawVersion() {
    if (this.v < 7) return;
    let rem = this.v;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (this.v << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) !== 0;
      const a = this.size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      this.setFn(a, b, dark);
      this.setFn(b, a, dark);
    }
  }

  drawCodewords(words) {
    const n = this.size;
    let i = 0;
    for (let right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let vert = 0; vert < n; vert++) {
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          const upward = ((right + 1) & 2) === 0;
          const y = upward ? n - 1 - vert : vert;
          if (!this.fn[y][x] && i < words.length * 8) {
            this.mod[y][x] = ((words[i >>> 3] >>> (7 - (i & 7))) & 1) !== 0;
            i++;
          }
        }
      }
    }
  }

  applyMask(m) {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        if (!this.fn[y][x] && mask(m, x, y)) this.mod[y][x] = !this.mod[y][x];
      }
    }
  }

  // Rules 1–4 of the standard (runs, 2×2 blocks, finder-like patterns, balance).
  penalty() {
    const n = this.size;
    const m = this.mod;
    let score = 0;
    const line = (get) => {
      let s = 0;
      let run = 1;
      const cells = [];
      for (let i = 0; i < n; i++) cells.push(get(i));
      for (let i = 1; i <= n; i++) {
        if (i < n && cells[i] === cells[i - 1]) run++;
        else { if (run >= 5) s += run - 2; run = 1; }
      }
      const str = cells.map((c) => (c ? '1' : '0')).join('');
      for (const pat of ['10111010000', '00001011101']) {
        for (let k = str.indexOf(pat); k !== -1; k = str.indexOf(pat, k + 1)) s += 40;
      }
      return s;
    };
    for (let i = 0; i < n; i++) {
      score += line((k) => m[i][k]);
      score += line((k) => m[k][i]);
    }
    let dark = 0;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        if (m[y][x]) dark++;
        if (x < n - 1 && y < n - 1) {
          const c = m[y][x];
          if (c === m[y][x + 1] && c === m[y + 1][x] && c === m[y + 1][x + 1]) score += 3;
        }
      }
    }
    const total = n * n;
    score += Math.max(0, Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1) * 10;
    return score;
  }
}

/** The QR symbol of `text` (UTF-8): `{size, dark(x, y)}`; throws when it is over 213 bytes. */
export function encode(text) {
  const bytes = Array.from(new TextEncoder().encode(text));
  let v = 1;
  while (v <= 10 && (4 + (v <= 9 ? 8 : 16) + bytes.length * 8) > dataCapacity(v) * 8) v++;
  if (v > 10) throw new RangeError('text too long for a version 1–10 QR code');
  const words = interleave(dataCodewords(bytes, v), v);
  let best = null;
  for (let m = 0; m < 8; m++) {
    const g = new Grid(v);
    g.drawFunctionPatterns();
    g.drawCodewords(words);
    g.applyMask(m);
    g.drawFormat(m);
    const p = g.penalty();
    if (!best || p < best.p) best = { g, p, m };
  }
  const { g, m } = best;
  return { size: g.size, mask: m, dark: (x, y) => g.mod[y][x] };
}

/** An <svg> of the QR symbol of `text`, `px` wide, with a 4-module quiet zone. */
export function svg(text, px = 192, label = '') {
  const q = encode(text);
  const NS = 'http://www.w3.org/2000/svg';
  const dim = q.size + 8;
  const el = document.createElementNS(NS, 'svg');
  el.setAttribute('viewBox', `0 0 ${dim} ${dim}`);
  el.setAttribute('width', String(px));
  el.setAttribute('height', String(px));
  el.setAttribute('shape-rendering', 'crispEdges');
  el.setAttribute('role', 'img');
  if (label) el.setAttribute('aria-label', label);
  const bg = document.createElementNS(NS, 'rect');
  bg.setAttribute('width', String(dim));
  bg.setAttribute('height', String(dim));
  bg.setAttribute('fill', '#fff');
  let d = '';
  for (let y = 0; y < q.size; y++) {
    for (let x = 0; x < q.size; x++) if (q.dark(x, y)) d += `M${x + 4} ${y + 4}h1v1h-1z`;
  }
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  el.append(bg, path);
  return el;
}
