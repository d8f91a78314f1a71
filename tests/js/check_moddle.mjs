// Check that bpmn.io can read and write Alur's BPMN files without losing anything.
//
// Usage: node tests/js/check_moddle.mjs [FILE.bpmn ...]   (default: every bpmn/*.bpmn)
//
// For each file:
//   1. import with bpmn-moddle plus the Alur descriptor (bpmn/alur-moddle.json), as
//      bpmn-js does with `moddleExtensions: { alur }`: no import warnings allowed, and
//      every alur:* element must be typed by the descriptor (no unknown attributes);
//   2. export (toXML) and import again: the number of alur:* elements and the
//      attributes of every alur:mutuBaku, alur:sop and alur:disahkanOleh must be unchanged;
//   3. the same import, export and re-import with a stock BpmnModdle() (no
//      descriptor), as a stock bpmn.io does: no warnings, nothing lost there either.
// Exit 1 (printing file + problems) if any file fails; a one-line summary at the end.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BPMN_DIR = join(ROOT, 'bpmn');
const alur = JSON.parse(readFileSync(join(BPMN_DIR, 'alur-moddle.json'), 'utf8'));

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text) {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, ref) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref];
  });
}

/** Count of alur:* start tags in an XML text. */
function countAlurElements(xml) {
  return (xml.match(/<alur:[A-Za-z]/g) || []).length;
}

/** Attributes of every <alur:TAG> in document order, entities decoded, keys sorted (xmlns left out). */
function alurAttrs(xml, tag) {
  const result = [];
  for (const [, attrs] of xml.matchAll(new RegExp(`<alur:${tag}\\b([^>]*?)\\/?>`, 'g'))) {
    const pairs = [...attrs.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)]
      .filter(([, key]) => !key.startsWith('xmlns'))
      .map(([, key, value]) => [key, unescapeXml(value)])
      .sort(([a], [b]) => a.localeCompare(b));
    result.push(JSON.stringify(pairs));
  }
  return result;
}

/** Every moddle element reachable from root (enumerable properties; references are not). */
function allElements(root) {
  const seen = new Set();
  const stack = [root];
  while (stack.length) {
    const value = stack.pop();
    if (!value || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    for (const key of Object.keys(value)) {
      if (key !== '$parent') stack.push(value[key]);
    }
  }
  return [...seen].filter((value) => typeof value.$type === 'string');
}

/** Problems with alur:* elements in a model read with the descriptor. */
function untypedAlur(definitions) {
  const problems = [];
  for (const element of allElements(definitions)) {
    if (!element.$type.startsWith('alur:')) continue;
    if (!element.$descriptor || element.$descriptor.ns.prefix !== 'alur' || /^alur:[a-z]/.test(element.$type)) {
      problems.push(`elemen ${element.$type} tidak dikenal descriptor`);
      continue;
    }
    const extra = Object.keys(element.$attrs || {}).filter((name) => !name.startsWith('xmlns'));
    if (extra.length) problems.push(`${element.$type}: atribut tidak dikenal ${extra.join(', ')}`);
  }
  return problems;
}

/** Export a model and compare the alur content of the result with the original text. */
async function roundTrip(moddle, definitions, xml, label) {
  const problems = [];
  const { xml: exported } = await moddle.toXML(definitions, { format: true });
  const again = await moddle.fromXML(exported);
  problems.push(...again.warnings.map((w) => `peringatan impor ulang (${label}): ${w.message}`));
  const before = countAlurElements(xml);
  const after = countAlurElements(exported);
  if (before !== after) problems.push(`jumlah elemen alur berubah (${label}): ${before} -> ${after}`);
  for (const tag of ['mutuBaku', 'sop', 'disahkanOleh']) {
    const attrsBefore = alurAttrs(xml, tag);
    const attrsAfter = alurAttrs(exported, tag);
    if (JSON.stringify(attrsBefore) !== JSON.stringify(attrsAfter)) {
      problems.push(`atribut alur:${tag} berubah (${label}):\n      ${attrsBefore.join(' ')}\n   -> ${attrsAfter.join(' ')}`);
    }
  }
  return problems;
}

async function checkFile(file) {
  const xml = readFileSync(file, 'utf8');
  const problems = [];

  const withAlur = new BpmnModdle({ alur });
  const typed = await withAlur.fromXML(xml);
  problems.push(...typed.warnings.map((w) => `peringatan impor (alur): ${w.message}`));
  problems.push(...untypedAlur(typed.rootElement));
  problems.push(...await roundTrip(withAlur, typed.rootElement, xml, 'alur'));

  const stock = new BpmnModdle();
  const plain = await stock.fromXML(xml);
  problems.push(...plain.warnings.map((w) => `peringatan impor (bpmn-moddle polos): ${w.message}`));
  problems.push(...await roundTrip(stock, plain.rootElement, xml, 'polos'));
  return { problems, alurElements: countAlurElements(xml) };
}

async function main() {
  const files = process.argv.length > 2
    ? process.argv.slice(2).map((f) => resolve(f))
    : readdirSync(BPMN_DIR).filter((f) => f.endsWith('.bpmn')).sort().map((f) => join(BPMN_DIR, f));
  if (!files.length) {
    console.error(`check_moddle: tidak ada file .bpmn di ${BPMN_DIR}`);
    return 1;
  }
  let failed = 0;
  let alurElements = 0;
  for (const file of files) {
    let result;
    try {
      result = await checkFile(file);
    } catch (error) {
      result = { problems: [`gagal dibaca: ${error.message}`], alurElements: 0 };
    }
    alurElements += result.alurElements;
    if (result.problems.length) {
      failed += 1;
      console.error(`GAGAL ${relative(process.cwd(), file)}`);
      for (const problem of result.problems) console.error(`  - ${problem}`);
    }
  }
  const summary = `check_moddle: ${files.length - failed}/${files.length} file OK`
    + ` (${alurElements} elemen alur, impor + ekspor + impor ulang, juga tanpa descriptor)`;
  console.log(failed ? `${summary}; ${failed} GAGAL` : summary);
  return failed ? 1 : 0;
}

process.exitCode = await main();
