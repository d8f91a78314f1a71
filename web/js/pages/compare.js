// Page "compare": two diagrams side by side (NavigatedViewer), the differences found by
// bpmn-js-differ marked on both (added / removed / changed / moved), and a table of what changed
// in SOP terms (names, lanes, Mutu Baku, conditions, called SOPs, header fields; lib/sop-facts.js).
// #studio-compare reports data-state and data-added / data-removed / data-changed counts.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { diff } from 'bpmn-js-differ';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

import alurModdle from '../../../bpmn/alur-moddle.json';
import { fetchText, setState } from '../lib/http.js';
import { sopFacts } from '../lib/sop-facts.js';
import '../lib/studio.css';

const root = document.getElementById('studio-compare');

async function open(container, url) {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { alur: alurModdle } });
  await viewer.importXML(await fetchText(url));
  viewer.get('canvas').zoom('fit-viewport', 'auto');
  return viewer;
}

function mark(viewer, ids, marker) {
  const registry = viewer.get('elementRegistry');
  ids.forEach((id) => { if (registry.get(id)) viewer.get('canvas').addMarker(id, marker); });
}

function row(cells, id) {
  const tr = document.createElement('tr');
  tr.dataset.elementId = id;
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
  }
  return tr;
}

async function main() {
  const left = await open(document.getElementById('compare-left'), root.dataset.leftUrl);
  const right = await open(document.getElementById('compare-right'), root.dataset.rightUrl);
  const before = left.getDefinitions();
  const after = right.getDefinitions();
  const changes = diff(before, after);
  mark(left, Object.keys(changes._removed), 'studio-removed');
  mark(right, Object.keys(changes._added), 'studio-added');
  mark(left, Object.keys(changes._changed), 'studio-changed');
  mark(right, Object.keys(changes._changed), 'studio-changed');
  mark(right, Object.keys(changes._layoutChanged).filter((id) => !changes._changed[id]), 'studio-layout');

  const old = sopFacts(before);
  const now = sopFacts(after);
  const body = root.querySelector('#compare-table tbody');
  let changed = 0;
  for (const [id, item] of now) {
    if (!old.has(id)) {
      body.appendChild(row([item.label, 'ditambah', item.type || '', '', Object.values(item.facts).filter(Boolean).join('; ')], id));
      continue;
    }
    const was = old.get(id);
    for (const [field, value] of Object.entries(item.facts)) {
      if ((was.facts[field] || '') !== value) {
        changed += 1;
        body.appendChild(row([item.label, 'diubah', field, was.facts[field] || '', value], id));
      }
    }
  }
  for (const [id, item] of old) {
    if (!now.has(id)) body.appendChild(row([item.label, 'dihapus', item.type || '', Object.values(item.facts).filter(Boolean).join('; '), ''], id));
  }
  root.dataset.added = String(Object.keys(changes._added).length);
  root.dataset.removed = String(Object.keys(changes._removed).length);
  root.dataset.changed = String(changed);
  if (!body.children.length) body.appendChild(row(['—', 'tidak ada perbedaan', '', '', ''], ''));
  setState(root, 'ready');
}

if (root) main().catch((error) => { console.error(error); setState(root, 'error', error.message); });
