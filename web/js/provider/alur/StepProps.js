// Group "Langkah SOP": Keterangan, whether the step is a review (alur:review), which team lane it
// forms (alur:formsTeam lane = a lane id with alur:lane team="true").
import { CheckboxEntry, SelectEntry, TextAreaEntry, isCheckboxEntryEdited, isSelectEntryEdited, isTextAreaEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { blankToUndefined, findExtension, setExtension, toggleExtension } from './extensions.js';

function KeteranganEntry({ element, id }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return jsx(TextAreaEntry, {
    id, element, label: 'Keterangan', debounce, rows: 2,
    getValue: () => (findExtension(getBusinessObject(element), 'alur:Keterangan') || {}).value || '',
    setValue: (value) => {
      if (blankToUndefined(value) === undefined) toggleExtension(injector, element, 'alur:Keterangan', false);
      else setExtension(injector, element, 'alur:Keterangan', { value });
    },
  });
}

function ReviewEntry({ element, id }) {
  const injector = useService('injector');
  return jsx(CheckboxEntry, {
    id, element, label: 'Langkah pemeriksaan (setuju / tidak)',
    getValue: () => Boolean(findExtension(getBusinessObject(element), 'alur:Review')),
    setValue: (on) => toggleExtension(injector, element, 'alur:Review', on),
  });
}

function teamLanes(element) {
  let process = getBusinessObject(element).$parent;
  while (process && !is(process, 'bpmn:Process')) process = process.$parent;
  const lanes = [];
  const visit = (laneSet) => (laneSet && laneSet.lanes || []).forEach((lane) => { lanes.push(lane); visit(lane.childLaneSet); });
  (process && process.laneSets || []).forEach(visit);
  return lanes.filter((lane) => findExtension(lane, 'alur:Lane') && findExtension(lane, 'alur:Lane').team);
}

function FormsTeamEntry({ element, id }) {
  const injector = useService('injector');
  return jsx(SelectEntry, {
    id, element, label: 'Membentuk tim (lajur)',
    getOptions: () => [{ value: '', label: '—' }, ...teamLanes(element).map((lane) => ({ value: lane.id, label: lane.name || lane.id }))],
    getValue: () => (findExtension(getBusinessObject(element), 'alur:FormsTeam') || {}).lane || '',
    setValue: (value) => {
      if (!value) toggleExtension(injector, element, 'alur:FormsTeam', false);
      else setExtension(injector, element, 'alur:FormsTeam', { lane: value });
    },
  });
}

export function stepGroup(element) {
  const entries = [{ id: 'alur-keterangan', component: KeteranganEntry, isEdited: isTextAreaEntryEdited }];
  if (is(element, 'bpmn:UserTask')) entries.push({ id: 'alur-review', component: ReviewEntry, isEdited: isCheckboxEntryEdited });
  entries.push({ id: 'alur-forms-team', component: FormsTeamEntry, isEdited: isSelectEntryEdited });
  return { id: 'alur-step', label: 'Langkah SOP', entries };
}
