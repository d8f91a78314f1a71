#!/usr/bin/env bash
# Create .venv and install Alur with its test tools; install the pinned npm
# packages (package-lock.json): bpmn-moddle and bpmnlint for the diagram tests,
# bpmn-js for the instance page's diagram, whose prebuilt viewer and CSS are copied
# into web/static/vendor/bpmn-js, and the studio's pages (web/js/pages/*.js: bpmn-js,
# bpmn-js-properties-panel, bpmn-js-bpmnlint, bpmn-js-differ), bundled by esbuild into
# web/static/build/ with its manifest.json (scripts/build_web.mjs). Neither folder is
# committed. Chart.js for the compliance report is copied into
# web/static/vendor/chart.js. Safe to run again.
#   --with-node   npm is required (tests, CI); without it npm is used when present,
#                 and when it is missing the web app runs without diagrams and studio.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

install_node_packages() {
  if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else npm install --silent --no-audit --no-fund; fi
  local vendor=web/static/vendor/bpmn-js dist=node_modules/bpmn-js/dist
  rm -rf "$vendor"
  mkdir -p "$vendor"
  cp "$dist/bpmn-navigated-viewer.production.min.js" "$dist/assets/bpmn-js.css" \
     "$dist/assets/diagram-js.css" node_modules/bpmn-js/LICENSE "$vendor/"
  # Chart.js for the compliance report's charts (the tables under them work without it)
  rm -rf web/static/vendor/chart.js
  mkdir -p web/static/vendor/chart.js
  cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md web/static/vendor/chart.js/
  node scripts/build_web.mjs
}

if [ "${1:-}" = "--with-node" ]; then
  install_node_packages
elif command -v npm >/dev/null; then
  install_node_packages
else
  echo "bootstrap: npm not found; the web app will run without diagrams and the studio (bpmn-js)" >&2
fi
