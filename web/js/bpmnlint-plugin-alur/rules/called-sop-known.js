// Every call activity calls a known SOP: its calledElement is one of config.known (the
// deployed process ids, injected by the studio; the process ids of bpmn/ in the tests).
'use strict';

const { is } = require('bpmnlint-utils');

module.exports = function(config) {
  const known = new Set((config && config.known) || []);
  function check(node, reporter) {
    if (!is(node, 'bpmn:CallActivity')) return;
    const called = (node.calledElement || '').trim();
    if (!called) {
      reporter.report(node.id, 'Call activity belum memilih SOP yang dipanggil');
    } else if (!known.has(called)) {
      reporter.report(node.id, `SOP yang dipanggil "${called}" tidak dikenal`);
    }
  }
  return { check };
};
