// The instance page's timeline: replay the audit history event by event on the bpmn-js diagram.
// Data: data-url -> {diagrams: [{process_id, name, root, xml_url, calls: {called: call activity id}}],
//                    events: [{id, at, when, kind, kind_label, actor, process_id, step_id, step_name,
//                              task_id, lane, iteration, keputusan, catatan, members, document}]}
// At the event picked by the slider (or ?pada=<event id>), the diagram shows the steps done so far
// (with counts), the steps then active, the event's own step; the panel shows the event and the
// lane holders of the active steps. A looped step's iteration can be picked ("putaran 2 dari 3"):
// the slider jumps there and the steps done in that round are outlined. Works across call
// activities: each called SOP is its own diagram tab and the timeline switches to the diagram of
// the event. #timeline reports data-state = loading | ready | error and data-event-id (for tests).
(function () {
  'use strict';

  const root = document.getElementById('timeline');
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const slider = $('tl-slider');
  const panel = $('tl-panel');
  const position = $('tl-position');
  const picker = $('tl-iteration');
  const tabs = $('tl-tabs');
  const playButton = $('tl-play');
  const msg = (name, values) => {
    let text = root.dataset['msg' + name] || '';
    for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, String(v));
    return text;
  };

  let data = null;
  let viewer = null;
  let shownProcess = null;
  let pinnedProcess = null;
  let index = 0;
  let path = null; // {process_id, steps: Set} of the picked iteration
  let timer = null;
  const xmlCache = new Map();
  const added = [];

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = content;
    return el;
  }

  async function fetchOk(url, kind) {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: kind } });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response;
  }

  // The state after events[0..i]: completed counts and active steps per diagram, and lane holders.
  function stateAt(i) {
    const done = new Map();
    const active = new Map();
    const calls = new Map();
    const documents = [];
    const bump = (map, key) => map.set(key, (map.get(key) || 0) + 1);
    for (let k = 0; k <= i; k += 1) {
      const e = data.events[k];
      if (e.kind === 'task_ready') active.set(e.task_id, e);
      else if (e.kind === 'task_completed') {
        active.delete(e.task_id);
        bump(done, `${e.process_id}|${e.step_id}`);
      } else if (e.kind === 'task_cancelled') active.delete(e.task_id);
      else if (e.kind === 'called_process_started') bump(calls, e.process_id);
      else if (e.kind === 'called_process_completed') {
        calls.set(e.process_id, (calls.get(e.process_id) || 0) - 1);
        for (const d of data.diagrams) {
          const element = d.calls[e.process_id];
          if (element) bump(done, `${d.process_id}|${element}`);
        }
      } else if (e.kind === 'document_attached' && e.document) documents.push({ ...e.document, step_id: e.step_id, process_id: e.process_id });
    }
    const current = new Set([...active.values()].map((e) => `${e.process_id}|${e.step_id}`));
    for (const [called, open] of calls) {
      if (open <= 0) continue;
      for (const d of data.diagrams) {
        const element = d.calls[called];
        if (element) current.add(`${d.process_id}|${element}`);
      }
    }
    return { done, current, active: [...active.values()], documents };
  }

  function clearMarks() {
    if (!viewer) return;
    const canvas = viewer.get('canvas');
    while (added.length) {
      const [id, cls] = added.pop();
      canvas.removeMarker(id, cls);
    }
    viewer.get('overlays').remove({ type: 'alur-count' });
  }

  function mark(state, event) {
    clearMarks();
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    const add = (id, cls) => {
      if (!registry.get(id)) return;
      canvas.addMarker(id, cls);
      added.push([id, cls]);
    };
    for (const [key, count] of state.done) {
      const [pid, id] = key.split('|');
      if (pid !== shownProcess) continue;
      add(id, 'alur-done');
      if (count > 1 && registry.get(id)) {
        overlays.add(id, 'alur-count', { position: { top: -10, right: 12 }, html: text('span', `×${count}`, 'alur-count') });
      }
    }
    for (const key of state.current) {
      const [pid, id] = key.split('|');
      if (pid === shownProcess) add(id, 'alur-current');
    }
    if (path && path.process_id === shownProcess) for (const id of path.steps) add(id, 'alur-path');
    if (event.step_id && event.process_id === shownProcess) add(event.step_id, 'alur-event');
  }

  async function showDiagram(processId) {
    if (processId === shownProcess) return;
    const diagram = data.diagrams.find((d) => d.process_id === processId) || data.diagrams[0];
    if (!xmlCache.has(diagram.process_id)) {
      xmlCache.set(diagram.process_id, await (await fetchOk(diagram.xml_url, 'application/xml')).text());
    }
    added.length = 0;
    await viewer.importXML(xmlCache.get(diagram.process_id));
    window.alurZoom.fit(viewer.get('canvas'), $('tl-canvas'));
    shownProcess = diagram.process_id;
    for (const button of tabs.querySelectorAll('button')) {
      const on = button.dataset.processId === shownProcess;
      button.classList.toggle('active', on);
      button.setAttribute('aria-pressed', String(on));
    }
  }

  function iterationsOf(e) {
    return data.events.filter((x) => x.kind === 'task_ready' && x.process_id === e.process_id && x.step_id === e.step_id).length;
  }

  function renderPanel(state, event) {
    panel.replaceChildren();
    panel.appendChild(text('div', event.kind_label, 'fw-semibold'));
    panel.appendChild(text('div', event.when, 'text-body-secondary'));
    const rows = [];
    if (event.step_name) rows.push(event.step_name);
    if (event.iteration && iterationsOf(event) > 1) rows.push(msg('Iteration', { i: event.iteration, n: iterationsOf(event) }));
    if (event.actor) rows.push(event.actor);
    if (event.lane) rows.push(`${msg('Lane')}: ${event.lane}`);
    for (const row of rows) panel.appendChild(text('div', row));
    if (event.keputusan) {
      const badge = text('span', event.keputusan === 'setuju' ? msg('Setuju') : msg('Tidak'),
        `badge ${event.keputusan === 'setuju' ? 'text-bg-success' : 'text-bg-danger'}`);
      badge.id = 'tl-keputusan';
      panel.appendChild(badge);
    }
    if (event.catatan) panel.appendChild(text('p', event.catatan, 'pre-line mt-1 mb-1 fst-italic'));
    if (event.members) panel.appendChild(text('div', event.members.join(', ')));
    const docs = state.documents.filter((d) => !event.step_id || (d.step_id === event.step_id && d.process_id === event.process_id));
    if (docs.length) {
      panel.appendChild(text('div', msg('Documents'), 'mt-2 fw-semibold'));
      for (const d of docs) {
        const link = text('a', `${d.name} (v${d.version})`);
        link.href = d.url;
        const line = document.createElement('div');
        line.appendChild(link);
        panel.appendChild(line);
      }
    }
    panel.appendChild(text('div', msg('Lane') + ':', 'mt-2 fw-semibold'));
    const holders = state.active.map((a) => `${a.step_name || a.step_id} — ${a.lane || '?'}`);
    const list = document.createElement('ul');
    list.className = 'mb-0 ps-3';
    list.id = 'tl-active';
    for (const h of holders.length ? holders : [msg('None')]) list.appendChild(text('li', h));
    panel.appendChild(list);
  }

  async function go(i, { keepPath = false } = {}) {
    index = Math.max(0, Math.min(data.events.length - 1, i));
    if (!keepPath) {
      path = null;
      picker.value = '';
    }
    slider.value = String(index);
    const event = data.events[index];
    const state = stateAt(index);
    const eventDiagram = data.diagrams.some((d) => d.process_id === event.process_id) ? event.process_id : null;
    await showDiagram(pinnedProcess || eventDiagram || shownProcess || data.diagrams[0].process_id);
    pinnedProcess = null;
    mark(state, event);
    renderPanel(state, event);
    position.textContent = msg('Position', { i: index + 1, n: data.events.length });
    root.dataset.eventId = String(event.id);
    root.dataset.state = 'ready';
    const url = new URL(window.location.href);
    url.searchParams.set('pada', String(event.id));
    window.history.replaceState(null, '', url.pathname + url.search + '#linimasa-section');
  }

  function buildPicker() {
    picker.replaceChildren(text('option', msg('Pick')));
    picker.firstChild.value = '';
    const readies = new Map();
    data.events.forEach((e, i) => {
      if (e.kind !== 'task_ready') return;
      const key = `${e.process_id}|${e.step_id}`;
      if (!readies.has(key)) readies.set(key, []);
      readies.get(key).push(i);
    });
    for (const [key, list] of readies) {
      if (list.length < 2) continue;
      list.forEach((readyIndex, k) => {
        const e = data.events[readyIndex];
        const option = text('option', `${e.step_name || e.step_id} — ${msg('Iteration', { i: k + 1, n: list.length })}`);
        option.value = `${key}|${k}`;
        picker.appendChild(option);
      });
    }
    picker.hidden = picker.options.length < 2;
    picker.addEventListener('change', () => {
      if (!picker.value) return;
      const [pid, step, k] = picker.value.split('|');
      const list = readies.get(`${pid}|${step}`);
      const start = list[Number(k)];
      const stop = Number(k) + 1 < list.length ? list[Number(k) + 1] : data.events.length;
      const steps = new Set([step]);
      let target = start;
      for (let j = start; j < stop; j += 1) {
        const e = data.events[j];
        if (e.kind === 'task_completed' && e.process_id === pid) {
          steps.add(e.step_id);
          if (e.step_id === step && target === start) target = j;
        }
      }
      path = { process_id: pid, steps };
      pinnedProcess = pid;
      stop_();
      go(target, { keepPath: true }).catch(failed);
    });
  }

  function buildTabs() {
    if (data.diagrams.length < 2) return;
    for (const d of data.diagrams) {
      const button = text('button', d.root ? d.name : `${msg('Called')}: ${d.name}`, 'btn btn-outline-secondary');
      button.type = 'button';
      button.dataset.processId = d.process_id;
      button.addEventListener('click', () => {
        pinnedProcess = d.process_id;
        shownProcess = null;
        go(index, { keepPath: true }).catch(failed);
      });
      tabs.appendChild(button);
    }
  }

  function stop_() {
    if (timer) window.clearInterval(timer);
    timer = null;
    playButton.setAttribute('aria-pressed', 'false');
  }

  function play() {
    if (timer) { stop_(); return; }
    if (index >= data.events.length - 1) index = -1;
    playButton.setAttribute('aria-pressed', 'true');
    timer = window.setInterval(() => {
      if (index >= data.events.length - 1) { stop_(); return; }
      go(index + 1).catch(failed);
    }, 700);
  }

  function failed(error) {
    console.error('Alur timeline:', error);
    root.dataset.state = 'error';
    position.textContent = msg('Failed');
  }

  async function main() {
    if (typeof window.BpmnJS !== 'function') return; // diagram.js already says bpmn-js is missing
    root.hidden = false;
    const [timeline, alur] = await Promise.all([
      fetchOk(root.dataset.url, 'application/json').then((r) => r.json()),
      fetchOk(root.dataset.moddleUrl, 'application/json').then((r) => r.json()),
    ]);
    data = timeline;
    if (!data.events.length) return;
    viewer = new window.BpmnJS({ container: $('tl-canvas'), moddleExtensions: { alur } });
    window.alurZoom.controls(() => viewer, $('tl-canvas'), { zoomIn: 'tl-zoom-in', zoomOut: 'tl-zoom-out', fit: 'tl-fit' });
    slider.max = String(data.events.length - 1);
    slider.addEventListener('input', () => { stop_(); go(Number(slider.value)).catch(failed); });
    $('tl-first').addEventListener('click', () => { stop_(); go(0).catch(failed); });
    $('tl-prev').addEventListener('click', () => { stop_(); go(index - 1).catch(failed); });
    $('tl-next').addEventListener('click', () => { stop_(); go(index + 1).catch(failed); });
    $('tl-last').addEventListener('click', () => { stop_(); go(data.events.length - 1).catch(failed); });
    playButton.addEventListener('click', play);
    buildTabs();
    buildPicker();
    const wanted = data.events.findIndex((e) => String(e.id) === root.dataset.at);
    await go(wanted >= 0 ? wanted : data.events.length - 1);
    if (wanted >= 0) root.scrollIntoView();
  }

  main().catch(failed);
}());
