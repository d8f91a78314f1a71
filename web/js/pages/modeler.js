// Page "modeler": bpmn-js Modeler + properties panel + Alur's provider + lint as you draw.
// The container #studio-modeler carries data-context-url, data-lanes-url, data-drafts-url,
// data-draft-url (…/drafts/0 → replace 0), data-version-url (…/versi/0.bpmn), data-draft-id, and
// reports data-state = loading | ready | error, data-draft-id, data-revision, data-save-state =
// clean | dirty | saving | saved | conflict | error for the browser tests.
//
// Drafts are never lost: every change is saved to the server a few seconds later (autosave);
// reopening offers the newest open draft; a stale save shows whose change came first with the
// choice "reload theirs" / "keep mine as a separate draft".
import BpmnModeler from 'bpmn-js/lib/Modeler';
import lintModule from 'bpmn-js-bpmnlint';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';

import bpmnlintConfig from 'alur:bpmnlint-config';

import alurModdle from '../../../bpmn/alur-moddle.json';
import { fetchJson, fetchText, setState } from '../lib/http.js';
import '../lib/studio.css';
import { zoomControls } from '../lib/zoom.js';
import alurProviderModule from '../provider/alur/index.js';

const AUTOSAVE_DELAY_MS = 3000;

const root = document.getElementById('studio-modeler');
const $ = (selector) => root.querySelector(selector);
const urls = root.dataset;
let modeler;
let context;
let draft = null; // {id, revision, base_version, ...}
let dirty = false;
let saving = null;
let timer = null;

function saveState(state, text) {
  root.dataset.saveState = state;
  $('#save-status').textContent = text || '';
}

function draftUrl(id) {
  return urls.draftUrl.replace(/0$/, String(id));
}

function timeText(iso) {
  return new Date(iso).toLocaleString('id-ID', { dateStyle: 'medium', timeStyle: 'short' });
}

function setDraft(value) {
  draft = value;
  root.dataset.draftId = value ? String(value.id) : '';
  root.dataset.revision = value ? String(value.revision) : '';
  const origin = value && value.base_version == null && context.current_version == null
    ? 'SOP baru, belum di-deploy' : `dari v${value ? value.base_version ?? '-' : ''}`;
  $('#draft-label').textContent = value
    ? `Draf #${value.id} (${origin}), disimpan ${value.updated_by} ${timeText(value.updated_at)}`
    : `Belum ada draf: perubahan pertama membuat draf dari v${context.current_version}`;
  const comparable = value && context.current_version != null;
  $('#compare-link').href = comparable ? `${urls.compareUrl}?dari=${context.current_version}&draf=${value.id}` : '#';
  $('#compare-link').classList.toggle('disabled', !comparable);
}

async function xml() {
  return (await modeler.saveXML({ format: true })).xml;
}

async function save() {
  if (saving) return saving;
  clearTimeout(timer);
  saving = (async () => {
    try {
      saveState('saving', 'Menyimpan…');
      const body = await xml();
      const answer = draft
        ? await fetchJson(draftUrl(draft.id), { method: 'PUT', body: { xml: body, revision: draft.revision } })
        : await fetchJson(urls.draftsUrl, { method: 'POST', body: { xml: body, base_version: context.current_version } });
      setDraft(answer.draft);
      dirty = false;
      saveState('saved', 'Tersimpan di server');
    } catch (error) {
      if (error.status === 409 && error.body && error.body.error.conflict) showConflict(error.body.error.conflict);
      else saveState('error', `Gagal menyimpan: ${error.message}`);
    } finally {
      saving = null;
    }
  })();
  return saving;
}

function scheduleSave() {
  dirty = true;
  saveState('dirty', 'Ada perubahan belum tersimpan…');
  clearTimeout(timer);
  timer = setTimeout(save, AUTOSAVE_DELAY_MS);
}

function showConflict(conflict) {
  saveState('conflict', 'Bentrok: draf disimpan orang lain');
  const box = $('#conflict');
  box.hidden = false;
  $('#conflict-text').textContent = `Draf #${conflict.draft_id} telah disimpan oleh ${conflict.updated_by} pada `
    + `${timeText(conflict.updated_at)} (revisi ${conflict.revision}${conflict.status !== 'open' ? `, ${conflict.status}` : ''}). `
    + 'Perubahan Anda belum disimpan.';
}

async function openDraft(id) {
  const answer = await fetchJson(draftUrl(id));
  await modeler.importXML(answer.xml);
  setDraft(answer.draft);
  dirty = false;
  saveState('clean', '');
  fit();
}

async function openVersion(version) {
  await modeler.importXML(await fetchText(urls.versionUrl.replace(/0\.bpmn$/, `${version}.bpmn`)));
  setDraft(null);
  saveState('clean', '');
  fit();
}

function fit() {
  modeler.get('canvas').zoom('fit-viewport', 'auto');
  refreshLanes();
}

// --- lint problems: a list under the canvas; clicking one selects its element -------------------
function showProblems(issues) {
  const list = $('#lint-problems');
  list.replaceChildren();
  const registry = modeler.get('elementRegistry');
  let count = 0;
  for (const [id, reports] of Object.entries(issues)) {
    for (const report of reports) {
      count += 1;
      const item = document.createElement('li');
      item.className = `list-group-item list-group-item-action py-1 small studio-lint-${report.category}`;
      item.dataset.elementId = id;
      item.dataset.rule = report.rule;
      item.tabIndex = 0;
      const element = registry.get(id);
      const name = (element && element.businessObject.name) || id;
      const kind = document.createElement('span');
      kind.className = 'studio-lint-kind';
      kind.textContent = report.category === 'error' ? 'Galat' : 'Peringatan';
      item.append(kind, `${name}: ${report.message} (${report.rule})`);
      const select = () => selectElement(id);
      item.addEventListener('click', select);
      item.addEventListener('keydown', (event) => { if (event.key === 'Enter') select(); });
      list.appendChild(item);
    }
  }
  root.dataset.lintProblems = String(count);
  $('#lint-count').textContent = count ? `${count} masalah` : 'Tidak ada masalah';
}

function selectElement(id) {
  const element = modeler.get('elementRegistry').get(id);
  if (!element) return;
  modeler.get('selection').select(element);
  modeler.get('canvas').scrollToElement(element);
}

// --- lanes: who receives each lane's steps, per unit ----------------------------------------
let laneTimer = null;
function refreshLanes() {
  clearTimeout(laneTimer);
  laneTimer = setTimeout(async () => {
    const lanes = modeler.get('elementRegistry').filter((e) => e.type === 'bpmn:Lane').map((e) => e.businessObject);
    const params = new URLSearchParams();
    for (const lane of lanes) {
      const team = (lane.extensionElements && lane.extensionElements.values || []).some((v) => v.$type === 'alur:Lane' && v.team);
      params.append(team ? 'team' : 'lane', lane.name || '');
    }
    const answer = await fetchJson(`${urls.lanesUrl}?${params}`);
    const box = $('#lanes');
    box.replaceChildren();
    for (const lane of answer.lanes) {
      const item = document.createElement('li');
      item.className = 'list-group-item py-1 small';
      item.dataset.lane = lane.lane;
      const title = document.createElement('strong');
      title.textContent = lane.lane || '(tanpa nama)';
      item.appendChild(title);
      const text = lane.team ? ' — tim, anggotanya dipilih saat langkah pembentuk tim'
        : ' — ' + lane.units.map((u) => `${u.unit_name}: ${u.role ? `${u.role} (${u.users.join(', ') || 'belum ada pegawai'})` : 'tidak ada peran'}`).join('; ');
      item.appendChild(document.createTextNode(text));
      if (lane.missing.length) {
        item.classList.add('list-group-item-warning');
        item.dataset.missing = lane.missing.join(',');
      }
      box.appendChild(item);
    }
  }, 300);
}

// --- deploy ---------------------------------------------------------------------------------
async function deploy(event) {
  event.preventDefault();
  const note = $('#deploy-note').value.trim();
  const result = $('#deploy-result');
  result.className = 'small mt-2';
  if (!note) {
    result.classList.add('text-danger');
    result.textContent = 'Catatan perubahan wajib diisi.';
    return;
  }
  await save();
  if (!draft || root.dataset.saveState !== 'saved') return;
  try {
    const answer = await fetchJson(`${draftUrl(draft.id)}/deploy`, { method: 'POST', body: { revision: draft.revision, note } });
    result.classList.add('text-success');
    result.dataset.version = String(answer.version);
    result.textContent = `Versi ${answer.version} di-deploy oleh ${answer.deployed_by} pada ${timeText(answer.deployed_at)}. `
      + `${answer.running_on_older} instans yang sedang berjalan tetap pada versi awalnya.`;
    context.current_version = answer.version;
    if (urls.newSop) {
      // The new SOP now exists: further edits are drafts of its version 1, in the SOP's own modeler.
      result.append(' ');
      const link = document.createElement('a');
      link.href = urls.versionsUrl;
      link.textContent = 'Lihat versi SOP ini';
      result.append(link);
    }
    setDraft(null);
    saveState('clean', 'Di-deploy');
  } catch (error) {
    result.classList.add('text-danger');
    const detail = error.body && error.body.error;
    result.textContent = `Deploy ditolak: ${error.message}`;
    if (detail && detail.element_id) {
      result.dataset.elementId = detail.element_id;
      selectElement(detail.element_id);
      modeler.get('canvas').addMarker(detail.element_id, 'studio-deploy-error');
    }
  }
}

async function main() {
  context = await fetchJson(urls.contextUrl);
  modeler = new BpmnModeler({
    container: $('.studio-canvas'),
    propertiesPanel: {
      parent: $('#properties'),
      layout: { groups: { 'alur-mutu-baku': { open: true }, 'alur-step': { open: true }, 'alur-called-sop': { open: true },
        'alur-sop-header': { open: true }, 'alur-lane': { open: true } } },
    },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, alurProviderModule, lintModule],
    moddleExtensions: { alur: alurModdle },
    linting: { bpmnlint: bpmnlintConfig, active: true },
    alurStudio: { knownSops: context.known_sops },
  });
  // The server's known SOPs are the list alur/called-sop-known checks against.
  bpmnlintConfig.config.rules['alur/called-sop-known'] = ['error', { known: context.known_sops.map((s) => s.process_id) }];
  window.alurModeler = modeler; // for tests and the browser console
  zoomControls(root, modeler);
  const eventBus = modeler.get('eventBus');
  eventBus.on('linting.completed', ({ issues }) => showProblems(issues));
  eventBus.on('commandStack.changed', ({ trigger }) => {
    if (trigger !== 'clear') scheduleSave(); // 'clear' is an import, not an edit
    refreshLanes();
  });
  $('#undo').addEventListener('click', () => modeler.get('commandStack').undo());
  $('#redo').addEventListener('click', () => modeler.get('commandStack').redo());
  $('#save').addEventListener('click', () => save());
  $('#deploy-form').addEventListener('submit', deploy);
  $('#conflict-reload').addEventListener('click', async () => { $('#conflict').hidden = true; await openDraft(draft.id); });
  $('#conflict-separate').addEventListener('click', async () => {
    $('#conflict').hidden = true;
    const base = draft.base_version;
    setDraft(null);
    context.current_version = base ?? context.current_version;
    await save();
  });
  window.addEventListener('beforeunload', (event) => {
    if (dirty) { save(); event.preventDefault(); }
  });

  const wanted = Number(urls.draftId || 0);
  const offered = context.drafts[0];
  if (wanted) {
    await openDraft(wanted);
  } else {
    await openVersion(context.current_version);
    if (offered) {
      $('#offer').hidden = false;
      $('#offer-text').textContent = `Ada draf #${offered.id} dari v${offered.base_version ?? '-'}, disimpan `
        + `${offered.updated_by} ${timeText(offered.updated_at)}.`;
      $('#offer-open').addEventListener('click', async () => { $('#offer').hidden = true; await openDraft(offered.id); });
      $('#offer-dismiss').addEventListener('click', () => { $('#offer').hidden = true; });
    }
  }
  modeler.get('linting').toggle(true);
  setState(root, 'ready');
}

if (root) {
  main().catch((error) => { console.error(error); setState(root, 'error', error.message); });
}
