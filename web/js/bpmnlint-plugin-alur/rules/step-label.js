// Labels on every task and gateway: a step's name is the Kegiatan's short label (<= 40
// characters, bpmn/README.md); a gateway's name is its question ("Setuju?").
'use strict';

const { is } = require('bpmnlint-utils');

const MAX_STEP_LABEL = 40;

module.exports = function() {
  function check(node, reporter) {
    const task = is(node, 'bpmn:Activity') && !is(node, 'bpmn:SubProcess');
    if (!task && !is(node, 'bpmn:Gateway')) return;
    const name = (node.name || '').trim();
    if (!name) {
      reporter.report(node.id, task ? 'Langkah belum diberi nama' : 'Gateway belum diberi nama (pertanyaan)');
    } else if (task && name.length > MAX_STEP_LABEL) {
      reporter.report(node.id, `Nama langkah lebih dari ${MAX_STEP_LABEL} karakter; teks lengkap di dokumentasi`);
    }
  }
  return { check };
};
