// Lighthouse's four categories — performance included — for the audited
// pages (the home and a post, in each language), mobile emulation, as a
// Markdown table for docs/perf.md. Each page is audited RUNS times and the
// median of each category is shown (performance varies with the machine's
// load; the other three do not). Run by scripts/bench against its stack:
// SEALPOST_BASE_URL and SEALPOST_SEED (`{"post": {"en": slug, "vi": slug}}`).
import { audit, auditedPages } from './lighthouse.mjs';

const RUNS = Number(process.env.SEALPOST_LIGHTHOUSE_RUNS || 3);
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`| Lighthouse 12.2.3, mobile (median of ${RUNS}) | performance | accessibility | best practices | SEO | performance, each run |`);
console.log('|---|---:|---:|---:|---:|---|');
for (const { name, path } of auditedPages()) {
  const runs = [];
  const failing = new Set();
  for (let i = 0; i < RUNS; i += 1) {
    const result = await audit(path, CATEGORIES);
    runs.push(result.scores);
    result.failing.filter((f) => !f.startsWith('performance:')).forEach((f) => failing.add(f));
  }
  // What cost points outside performance, on stderr (the table stays clean).
  if (failing.size) console.error(`${path}: ${[...failing].join('; ')}`);
  const cells = CATEGORIES.map((c) => median(runs.map((r) => r[c])));
  console.log(`| ${name}: ${path.replace(/posts\/.*/, 'posts/{slug}')} | ${cells.join(' | ')} | ${runs.map((r) => r.performance).join(', ')} |`);
}
