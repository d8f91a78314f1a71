// After every review step (alur:review) comes exactly one flow to an exclusive gateway with
// exactly two outgoing flows named "Ya" and "Tidak", each with a condition
// (bpmn/README.md, "The review-gateway convention").
'use strict';

const { is } = require('bpmnlint-utils');
const { alurElement } = require('../lib/alur');

function hasCondition(flow) {
  return Boolean(flow.conditionExpression && (flow.conditionExpression.body || '').trim());
}

module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask') || !alurElement(node, 'review')) return;
    const outgoing = node.outgoing || [];
    if (outgoing.length !== 1) {
      reporter.report(node.id, `Langkah pemeriksaan harus punya tepat satu alur keluar (ada ${outgoing.length})`);
      return;
    }
    const gateway = outgoing[0].targetRef;
    if (!is(gateway, 'bpmn:ExclusiveGateway')) {
      reporter.report(node.id, 'Setelah langkah pemeriksaan harus ada exclusive gateway "Setuju?"');
      return;
    }
    const flows = gateway.outgoing || [];
    const names = flows.map((flow) => (flow.name || '').trim()).sort();
    if (flows.length !== 2 || names[0] !== 'Tidak' || names[1] !== 'Ya') {
      reporter.report(gateway.id, 'Gateway setelah pemeriksaan harus punya tepat dua alur keluar: "Ya" dan "Tidak"');
      return;
    }
    for (const flow of flows) {
      if (!hasCondition(flow)) reporter.report(flow.id, `Alur "${flow.name}" tanpa kondisi`);
    }
  }
  return { check };
};
