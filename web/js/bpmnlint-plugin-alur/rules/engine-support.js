// Nothing the engine refuses or does not run (bpmn/README.md): steps are done by people, so
// no script, service, send, receive or business-rule tasks and no plain (untyped) task; no
// message, signal, conditional, error, escalation or compensation events (a step's duration
// is data: Mutu Baku Waktu); timers only where `alur worker` runs them (a boundary timer on a
// user task, an intermediate timer catch event); only exclusive and parallel gateways.
'use strict';

const { is } = require('bpmnlint-utils');

const REFUSED = {
  'bpmn:ScriptTask': 'Script task tidak dijalankan Alur',
  'bpmn:ServiceTask': 'Service task tidak dijalankan Alur',
  'bpmn:SendTask': 'Send task tidak dijalankan Alur',
  'bpmn:ReceiveTask': 'Receive task tidak dijalankan Alur',
  'bpmn:BusinessRuleTask': 'Business rule task tidak dijalankan Alur',
  'bpmn:InclusiveGateway': 'Inclusive gateway tidak dipakai SOP Alur; gunakan exclusive gateway',
  'bpmn:ComplexGateway': 'Complex gateway tidak dijalankan Alur',
  'bpmn:EventBasedGateway': 'Event-based gateway tidak dijalankan Alur',
  'bpmn:Transaction': 'Transaction tidak dijalankan Alur',
};

function runsTimer(node) {
  return is(node, 'bpmn:IntermediateCatchEvent')
    || (is(node, 'bpmn:BoundaryEvent') && !!node.attachedToRef && is(node.attachedToRef, 'bpmn:UserTask'));
}

module.exports = function() {
  function check(node, reporter) {
    for (const [type, message] of Object.entries(REFUSED)) {
      if (node.$type === type) {
        reporter.report(node.id, message);
        return;
      }
    }
    if (node.$type === 'bpmn:Task') {
      reporter.report(node.id, 'Langkah tanpa jenis: ubah menjadi User Task (dikerjakan orang)');
      return;
    }
    if (is(node, 'bpmn:Event')) {
      for (const definition of node.eventDefinitions || []) {
        if (is(definition, 'bpmn:TimerEventDefinition') && runsTimer(node)) {
          continue;
        }
        if (!is(definition, 'bpmn:TerminateEventDefinition')) {
          const kind = definition.$type.replace('bpmn:', '').replace('EventDefinition', '');
          reporter.report(node.id, `Event ${kind} belum dijalankan Alur (waktu adalah data Mutu Baku)`);
        }
      }
    }
  }
  return { check };
};
