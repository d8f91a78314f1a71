// Lint BPMN files with the studio's bpmnlint configuration (web/js/bpmnlintrc.json:
// bpmnlint's recommended rules plus bpmnlint-plugin-alur), reading the alur: extension with
// bpmn/alur-moddle.json exactly as the modeler does. Used by lint_bpmn.mjs and the unit tests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(ROOT, 'package.json'));
const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

const alur = JSON.parse(readFileSync(join(ROOT, 'bpmn', 'alur-moddle.json'), 'utf8'));
const baseConfig = JSON.parse(readFileSync(join(ROOT, 'web', 'js', 'bpmnlintrc.json'), 'utf8'));

/** The studio's config with `known` (process ids) given to alur/called-sop-known. */
export function studioConfig(known) {
  return { ...baseConfig, rules: { ...baseConfig.rules, 'alur/called-sop-known': ['error', { known }] } };
}

/** Lint one BPMN XML text; resolves to [{rule, id, message, category}] (empty: no problems). */
export async function lintXml(xml, known, config = studioConfig(known)) {
  const moddle = new BpmnModdle({ alur });
  const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
  const linter = new Linter({ config, resolver: new NodeResolver({ require }) });
  const results = await linter.lint(rootElement);
  const problems = [];
  for (const [rule, reports] of Object.entries(results)) {
    for (const report of reports) problems.push({ rule, id: report.id, message: report.message, category: report.category });
  }
  for (const warning of warnings) problems.push({ rule: 'import', id: null, message: warning.message, category: 'error' });
  return problems;
}
