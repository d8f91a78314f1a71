// Reading and writing alur:* extension elements through the command stack, so that every edit
// is one undoable step ('properties-panel.multi-command-executor' of bpmn-js-properties-panel).
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

export function findExtension(bo, type) {
  const ext = bo && bo.get('extensionElements');
  return ext ? ext.get('values').find((value) => is(value, type)) : undefined;
}

// Commands that make sure `bo` has an extension element of `type`; returns [commands, value].
function ensureExtension(element, bo, type, bpmnFactory) {
  const commands = [];
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  let value = ext.get('values').find((v) => is(v, type));
  if (!value) {
    value = bpmnFactory.create(type);
    value.$parent = ext;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), value] } } });
  }
  return [commands, value];
}

// Set properties of the alur extension `type` of `bo` (default: the element's business object),
// creating it when missing; `undefined` values remove attributes.
export function setExtension(injector, element, type, properties, bo = getBusinessObject(element)) {
  const [commands, value] = ensureExtension(element, bo, type, injector.get('bpmnFactory'));
  commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: value, properties } });
  injector.get('commandStack').execute('properties-panel.multi-command-executor', commands);
  return value;
}

// Add (on) or remove (off) a marker extension such as alur:Review.
export function toggleExtension(injector, element, type, on, bo = getBusinessObject(element)) {
  const existing = findExtension(bo, type);
  if (on && !existing) {
    setExtension(injector, element, type, {}, bo);
  } else if (!on && existing) {
    const ext = bo.get('extensionElements');
    injector.get('commandStack').execute('element.updateModdleProperties', {
      element, moddleElement: ext, properties: { values: ext.get('values').filter((v) => v !== existing) },
    });
  }
}

export function blankToUndefined(value) {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}
