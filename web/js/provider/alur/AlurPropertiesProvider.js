// Groups for Alur's extension elements (bpmn/README.md), added after bpmn-js-properties-panel's own:
//   user task / call activity  Mutu Baku (MutuBakuProps), Langkah SOP (StepProps)
//   call activity              SOP yang dipanggil (CalledSopProps)
//   pool / process             Kepala SOP (SopHeaderProps)
//   lane                       Lajur (LaneProps)
// Every edit is a command (undo/redo); see extensions.js.
import { is } from 'bpmn-js/lib/util/ModelUtil';

import { calledSopGroup } from './CalledSopProps.js';
import { laneGroup } from './LaneProps.js';
import { mutuBakuGroup } from './MutuBakuProps.js';
import { sopHeaderGroup } from './SopHeaderProps.js';
import { stepGroup } from './StepProps.js';

const LOW_PRIORITY = 500;

export default function AlurPropertiesProvider(propertiesPanel, translate) {
  this.getGroups = function(element) {
    return function(groups) {
      const isStep = is(element, 'bpmn:UserTask') || is(element, 'bpmn:CallActivity');
      const added = [];
      if (isStep) added.push(mutuBakuGroup(element, translate), stepGroup(element, translate));
      if (is(element, 'bpmn:CallActivity')) added.push(calledSopGroup(element, translate));
      if (is(element, 'bpmn:Participant') || is(element, 'bpmn:Process')) added.push(sopHeaderGroup(element, translate));
      if (is(element, 'bpmn:Lane')) added.push(laneGroup(element, translate));
      const at = Math.min(2, groups.length);
      groups.splice(at, 0, ...added.filter(Boolean));
      return groups;
    };
  };

  propertiesPanel.registerProvider(LOW_PRIORITY, this);
}

AlurPropertiesProvider.$inject = ['propertiesPanel', 'translate'];
