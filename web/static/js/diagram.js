// The instance page's diagram: draw the BPMN XML with bpmn-js (navigated viewer, global
// `BpmnJS`), then mark completed steps ("alur-done"), current steps ("alur-current") and
// put a count on steps completed more than once. Data comes from the app (web/diagram.py):
//   data-steps-url   {"diagrams": [{process_id, name, root, completed: {id: n}, current: [id], xml_url}]}
//   data-moddle-url  the alur: moddle descriptor (bpmn/alur-moddle.json)
// The container #diagram reports for tests and tools: data-state = loading | ready | error,
// data-process-id = the diagram shown, data-import-warnings = bpmn-js's import warnings
// (also window.alurDiagram). Messages come translated in data-msg-* attributes.
(function () {
  'use strict';

  const root = document.getElementById('diagram');
  if (!root) return;
  const canvasBox = document.getElementById('diagram-canvas');
  const tabs = document.getElementById('diagram-tabs');
  const statusLine = document.getElementById('diagram-status');
  const legend = document.getElementById('diagram-legend');
  const MIN_HEIGHT_PX = 220;
  const MAX_HEIGHT_PX = 640;
  const READABLE_SCALE = 0.7;  // labels stay near 8 px and up
  const zoomBar = document.getElementById('diagram-zoom');
  const msg = (name, n) => (root.dataset['msg' + name] || '').replace('{n}', String(n));

  window.alurDiagram = { state: 'loading', processId: null, warnings: [] };

  function report(state, text) {
    root.dataset.state = state;
    window.alurDiagram.state = state;
    statusLine.textContent = text || '';
  }

  async function fetchOk(url, kind) {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: kind } });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response;
  }

  function countBadge(count) {
    const badge = document.createElement('span');
    badge.className = 'alur-count';
    badge.textContent = `×${count}`;
    badge.title = msg('Count', count);
    return badge;
  }

  function mark(viewer, diagram) {
    const canvas = viewer.get('canvas');
    const overlays = viewer.get('overlays');
    const registry = viewer.get('elementRegistry');
    for (const [id, count] of Object.entries(diagram.completed)) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, 'alur-done');
      if (count > 1) {
        overlays.add(id, 'alur-count', { position: { top: -10, right: 12 }, html: countBadge(count) });
      }
    }
    for (const id of diagram.current) {
      if (registry.get(id)) canvas.addMarker(id, 'alur-current');
    }
  }

  // Make the box as tall as the diagram needs at the box's width (within limits), then fit.
  // A wide SOP fitted to the width would have labels of a few pixels: below READABLE_SCALE the
  // diagram opens at that scale instead, at its current step (or its start); drag to pan, or
  // use the zoom buttons (the fit button shows it whole).
  function fit(canvas, focus) {
    const inner = canvas.viewbox().inner;
    if (inner.width > 0) {
      const scale = Math.max(canvasBox.clientWidth / inner.width, READABLE_SCALE);
      const wanted = Math.round(inner.height * Math.min(scale, 1)) + 48;
      canvasBox.style.height = `${Math.min(Math.max(wanted, MIN_HEIGHT_PX), MAX_HEIGHT_PX)}px`;
      canvas.resized();
    }
    canvas.zoom('fit-viewport', 'auto');
    if (canvas.zoom() < READABLE_SCALE) {
      const outer = canvas.viewbox().outer;  // the box's size in screen pixels
      const width = outer.width / READABLE_SCALE;
      const height = outer.height / READABLE_SCALE;
      const target = focus || { x: inner.x + width / 2, y: inner.y + inner.height / 2 };
      canvas.viewbox({ x: Math.max(target.x - width / 2, inner.x - 20), y: Math.max(target.y - height / 2, inner.y - 20),
        width, height });
    }
  }

  function zoomButtons(viewer) {
    const canvas = viewer.get('canvas');
    const step = (factor) => canvas.zoom(Math.min(Math.max(canvas.zoom() * factor, 0.2), 4));
    const actions = { in: () => step(1.25), out: () => step(0.8), fit: () => canvas.zoom('fit-viewport', 'auto') };
    for (const button of zoomBar.querySelectorAll('button[data-zoom]')) {
      button.addEventListener('click', () => actions[button.dataset.zoom]());
    }
    zoomBar.hidden = false;
  }

  function focusOf(viewer, diagram) {
    const registry = viewer.get('elementRegistry');
    const element = diagram.current.map((id) => registry.get(id)).find(Boolean);
    return element ? { x: element.x + element.width / 2, y: element.y + element.height / 2 } : null;
  }

  async function show(viewer, diagram) {
    report('loading', msg('Loading'));
    root.dataset.processId = diagram.process_id;
    const xml = await (await fetchOk(diagram.xml_url, 'application/xml')).text();
    const { warnings } = await viewer.importXML(xml);
    window.alurDiagram.processId = diagram.process_id;
    window.alurDiagram.warnings = warnings.map((w) => w.message);
    root.dataset.importWarnings = String(warnings.length);
    warnings.forEach((w) => console.warn('bpmn-js:', w.message));
    fit(viewer.get('canvas'), focusOf(viewer, diagram));
    mark(viewer, diagram);
    for (const button of tabs.querySelectorAll('button')) {
      button.setAttribute('aria-pressed', String(button.dataset.processId === diagram.process_id));
      button.classList.toggle('active', button.dataset.processId === diagram.process_id);
    }
    report('ready', warnings.length ? msg('Warnings', warnings.length) : '');
  }

  function failed(error) {
    console.error('Alur diagram:', error);
    canvasBox.hidden = true;
    report('error', msg('Failed'));
  }

  function buildTabs(viewer, diagrams) {
    if (diagrams.length < 2) return;
    tabs.setAttribute('aria-label', msg('Tabs'));
    for (const diagram of diagrams) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-outline-primary';
      button.dataset.processId = diagram.process_id;
      button.textContent = diagram.root ? diagram.name : `${msg('Called')}: ${diagram.name}`;
      button.addEventListener('click', () => show(viewer, diagram).catch(failed));
      tabs.appendChild(button);
    }
    tabs.hidden = false;
  }

  async function main() {
    if (typeof window.BpmnJS !== 'function') {
      report('error', msg('Missing'));
      return;
    }
    report('loading', msg('Loading'));
    const [steps, alur] = await Promise.all([
      fetchOk(root.dataset.stepsUrl, 'application/json').then((r) => r.json()),
      fetchOk(root.dataset.moddleUrl, 'application/json').then((r) => r.json()),
    ]);
    canvasBox.hidden = false;
    legend.hidden = false;
    const viewer = new window.BpmnJS({ container: canvasBox, moddleExtensions: { alur } });
    buildTabs(viewer, steps.diagrams);
    zoomButtons(viewer);
    await show(viewer, steps.diagrams[0]);
  }

  main().catch(failed);
}());
