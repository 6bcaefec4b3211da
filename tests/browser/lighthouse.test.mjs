// Lighthouse's deterministic categories — accessibility, best practices
// and SEO — at 95 or more on the home page and a post page, in English and
// Vietnamese. Performance depends on the machine's load: scripts/bench
// reports it (report.mjs) in docs/perf.md.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { audit, auditedPages } from './lighthouse.mjs';

const CATEGORIES = ['accessibility', 'best-practices', 'seo'];

for (const { name, path } of auditedPages()) {
  test(`Lighthouse scores the ${name} page at least 95 for accessibility, best practices and SEO`, async () => {
    const { scores, failing } = await audit(path, CATEGORIES);
    for (const c of CATEGORIES) {
      assert.ok(scores[c] >= 95, `${c} ${scores[c]} < 95 on ${path}; failing audits: ${failing.join('; ')}`);
    }
  });
}
