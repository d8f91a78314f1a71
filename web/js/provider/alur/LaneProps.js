// Group "Lajur (Pelaksana)": whether the lane is a team (alur:lane team="true"), formed per instance.
// Who receives the lane's steps in each unit is shown beside the canvas (pages/modeler.js).
import { CheckboxEntry, isCheckboxEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { findExtension, setExtension, toggleExtension } from './extensions.js';

function TeamEntry({ element, id }) {
  const injector = useService('injector');
  return jsx(CheckboxEntry, {
    id, element, label: 'Lajur tim (Tim dibentuk per instans)',
    getValue: () => Boolean((findExtension(getBusinessObject(element), 'alur:Lane') || {}).team),
    setValue: (on) => (on ? setExtension(injector, element, 'alur:Lane', { team: true })
      : toggleExtension(injector, element, 'alur:Lane', false)),
  });
}

export function laneGroup() {
  return { id: 'alur-lane', label: 'Lajur (Pelaksana)', entries: [{ id: 'alur-lane-team', component: TeamEntry, isEdited: isCheckboxEntryEdited }] };
}
