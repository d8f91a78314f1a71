// Bundle the studio's pages (web/js/pages/*.js, one entry per page) with esbuild into
// web/static/build/ (not committed) and write web/static/build/manifest.json, the only
// thing the Python side reads: {"<page>": {"js": "<file>", "css": ["<file>", ...]}}.
//
// - Preact: bpmn-js-properties-panel imports the copy shipped inside
//   @bpmn-io/properties-panel; every other `preact` import (our provider, diagram-js's UI)
//   is aliased to that copy, so the bundle holds one Preact.
// - The bpmnlint configuration (web/js/bpmnlintrc.json: bpmnlint's recommended rules plus
//   the Alur plugin web/js/bpmnlint-plugin-alur) is compiled by bpmnlint's own
//   compile-config into the virtual module `alur:bpmnlint-config`.
// Usage: node scripts/build_web.mjs   (run by scripts/bootstrap.sh after `npm ci`)

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGES = join(ROOT, 'web', 'js', 'pages');
const OUT = join(ROOT, 'web', 'static', 'build');
const require = createRequire(import.meta.url);
const PREACT = dirname(require.resolve('@bpmn-io/properties-panel/preact/package.json'));

const lintConfigPlugin = {
  name: 'alur-bpmnlint-config',
  setup(build) {
    build.onResolve({ filter: /^alur:bpmnlint-config$/ }, (args) => ({ path: args.path, namespace: 'alur-lint' }));
    build.onLoad({ filter: /.*/, namespace: 'alur-lint' }, async () => {
      const compileConfig = require('bpmnlint/lib/support/compile-config');
      const config = JSON.parse(readFileSync(join(ROOT, 'web', 'js', 'bpmnlintrc.json'), 'utf8'));
      return { contents: await compileConfig(config), resolveDir: ROOT, loader: 'js' };
    });
  },
};

const entries = readdirSync(PAGES).filter((f) => f.endsWith('.js')).map((f) => join(PAGES, f));
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const result = await esbuild.build({
  entryPoints: entries,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['es2020'],
  outdir: OUT,
  entryNames: '[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
  jsx: 'automatic',
  jsxImportSource: PREACT,
  alias: { preact: PREACT },
  loader: { '.bpmn': 'text', '.woff': 'file', '.woff2': 'file', '.eot': 'file', '.ttf': 'file', '.svg': 'file' },
  plugins: [lintConfigPlugin],
});

// One copy of Preact: nothing may come from a preact package other than the panel's.
const preactCopies = new Set(Object.keys(result.metafile.inputs)
  .map((input) => /^(.*node_modules\/(?:@bpmn-io\/properties-panel\/)?preact)\//.exec(input))
  .filter(Boolean).map((match) => match[1]));
if (preactCopies.size > 1) {
  console.error(`build_web: ${preactCopies.size} copies of Preact bundled: ${[...preactCopies].join(', ')}`);
  process.exit(1);
}

const manifest = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint) continue;
  const page = basename(output.entryPoint, '.js');
  const name = relative(OUT, resolve(ROOT, file));
  manifest[page] = manifest[page] || { js: null, css: [] };
  if (name.endsWith('.js')) {
    manifest[page].js = name;
    if (output.cssBundle) manifest[page].css.push(relative(OUT, resolve(ROOT, output.cssBundle)));
  }
}
writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`build_web: ${Object.keys(manifest).length} pages -> ${relative(ROOT, OUT)}/`);
