// Lint every bpmn/*.bpmn (or the files given) with the studio's rules; exit 1 on any problem.
// Usage: node tests/js/lint_bpmn.mjs [FILE.bpmn ...]
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

import { ROOT, lintXml } from './alur_lint.mjs';

const dir = join(ROOT, 'bpmn');
const files = process.argv.slice(2).length ? process.argv.slice(2)
  : readdirSync(dir).filter((f) => f.endsWith('.bpmn')).sort().map((f) => join(dir, f));
const known = readdirSync(dir).filter((f) => f.endsWith('.bpmn')).map((f) => basename(f, '.bpmn'));
let count = 0;
for (const file of files) {
  const problems = await lintXml(readFileSync(file, 'utf8'), known);
  for (const p of problems) console.log(`${basename(file)}: ${p.id} ${p.category} ${p.rule}: ${p.message}`);
  count += problems.length;
}
console.log(`lint_bpmn: ${files.length} files, ${count} problems`);
process.exit(count ? 1 : 0);
