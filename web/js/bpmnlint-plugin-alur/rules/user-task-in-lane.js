// Every user task and call activity lies in exactly one lane: the lane is the Pelaksana who
// performs the step (bpmn/README.md; the engine routes a ready step by its lane's name).
'use strict';

const { is } = require('bpmnlint-utils');

function lanesOf(laneSet, found = []) {
  for (const lane of (laneSet && laneSet.lanes) || []) {
    found.push(lane);
    lanesOf(lane.childLaneSet, found);
  }
  return found;
}

module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Process') && !is(node, 'bpmn:SubProcess')) return;
    const lanes = (node.laneSets || []).flatMap((set) => lanesOf(set))
      .filter((lane) => !lane.childLaneSet || !(lane.childLaneSet.lanes || []).length);
    for (const element of node.flowElements || []) {
      if (!is(element, 'bpmn:UserTask') && !is(element, 'bpmn:CallActivity')) continue;
      const holders = lanes.filter((lane) => (lane.flowNodeRef || []).includes(element));
      if (holders.length === 0) {
        reporter.report(element.id, 'Langkah tidak berada di lajur (Pelaksana) mana pun');
      } else if (holders.length > 1) {
        reporter.report(element.id, `Langkah berada di ${holders.length} lajur; harus tepat satu`);
      }
    }
  }
  return { check };
};
