// Page "versions": restore a version as a new draft, and "Pindahkan proses berjalan" — the dry run
// (every running instance of older versions, movable or not, and why) and the move in one action.
// #studio-versions reports data-state and, after a dry run, data-movable (count).
import { fetchJson, setState } from '../lib/http.js';

const root = document.getElementById('studio-versions');

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function showPlan(plan) {
  const table = root.querySelector('#migration-plan');
  const body = table.querySelector('tbody');
  body.replaceChildren();
  for (const c of plan.candidates) {
    const tr = document.createElement('tr');
    tr.dataset.instanceId = String(c.instance_id);
    tr.dataset.movable = String(c.movable);
    [`#${c.instance_id} ${c.title}`, c.unit, `v${c.version}`, c.ready_steps.join(', '),
      c.movable ? 'ya' : 'tidak', c.reasons.join('; ')].forEach((t) => tr.appendChild(cell(t)));
    body.appendChild(tr);
  }
  table.hidden = false;
  const movable = plan.candidates.filter((c) => c.movable).length;
  root.dataset.movable = String(movable);
  root.querySelector('#migration-move').disabled = movable === 0 || plan.moved.length > 0;
  root.querySelector('#migration-result').textContent = plan.moved.length
    ? `${plan.moved.length} instans dipindahkan ke v${plan.target_version}.`
    : `${plan.candidates.length} instans versi lama berjalan; ${movable} dapat dipindahkan ke v${plan.target_version}.`;
}

function init() {
  root.querySelectorAll('[data-restore]').forEach((button) => button.addEventListener('click', async () => {
    const url = root.dataset.restoreUrl.replace(/\/versions\/0\/restore$/, `/versions/${button.dataset.restore}/restore`);
    try {
      const answer = await fetchJson(url, { method: 'POST', body: {} });
      window.location.href = `${root.dataset.editUrl}?draf=${answer.draft.id}`;
    } catch (error) {
      setState(root, 'error', error.message);
    }
  }));
  const dry = root.querySelector('#migration-dry-run');
  if (dry) {
    dry.addEventListener('click', async () => showPlan(await fetchJson(root.dataset.migrationUrl)));
    root.querySelector('#migration-move').addEventListener('click', async () => {
      showPlan(await fetchJson(root.dataset.migrationUrl, { method: 'POST', body: {} }));
      root.dataset.moved = 'true';
    });
  }
  setState(root, 'ready');
}

if (root) init();
