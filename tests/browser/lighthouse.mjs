// Lighthouse (the pinned CLI, mobile emulation, its defaults) against the
// system Chromium: one audit of one page, answered as each category's score
// out of 100 and the audits that cost points.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { env, freshIp, url } from './lib.mjs';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./node_modules/lighthouse/cli/index.js', import.meta.url));

/** The pages audited: the home and a post, in each language. */
export function auditedPages() {
  return ['en', 'vi'].flatMap((l) => [
    { name: `home (${l})`, path: `/${l}/` },
    { name: `post (${l})`, path: `/${l}/posts/${env.post[l]}` },
  ]);
}

/** Audits `path` in `categories`: `{scores: {id: 0–100}, failing: [audit titles]}`. */
export async function audit(path, categories) {
  const { stdout } = await run(process.execPath, [
    cli,
    url(path),
    '--output=json',
    '--output-path=stdout',
    '--quiet',
    `--only-categories=${categories.join(',')}`,
    `--extra-headers=${JSON.stringify({ 'CF-Connecting-IP': freshIp() })}`,
    '--chrome-flags=--headless=new --no-sandbox --disable-dev-shm-usage',
  ], { env: { ...process.env, CHROME_PATH: env.chrome }, maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout);
  const scores = {};
  const failing = [];
  for (const [id, category] of Object.entries(report.categories)) {
    scores[id] = Math.round(category.score * 100);
    for (const ref of category.auditRefs) {
      const a = report.audits[ref.id];
      if (ref.weight > 0 && a.score !== null && a.score < 1) failing.push(`${id}: ${a.title} (${a.score})`);
    }
  }
  return { scores, failing };
}
