// Reading Alur's extension elements (bpmn/alur-moddle.json) from a bpmn-moddle element, typed
// (moddle created with the alur descriptor: $type "alur:MutuBaku") or not ("alur:mutuBaku").
'use strict';

const ALUR_NS = 'http://alur.dev/schema/bpmn/sop/1.0';

function extensionValues(element) {
  const ext = element && element.extensionElements;
  return (ext && ext.values) || [];
}

function isAlur(value, name) {
  const type = (value && value.$type) || '';
  return type.toLowerCase() === `alur:${name.toLowerCase()}`;
}

function alurElement(element, name) {
  return extensionValues(element).find((value) => isAlur(value, name)) || null;
}

function attr(value, name) {
  if (!value) return undefined;
  if (value[name] !== undefined) return value[name];
  return value.$attrs ? value.$attrs[name] : undefined;
}

module.exports = { ALUR_NS, alurElement, attr, extensionValues, isAlur };
