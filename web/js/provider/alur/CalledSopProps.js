// Group "SOP yang dipanggil": the calledElement of a call activity, picked from the deployed SOPs
// (config.alurStudio.knownSops, from the server).
import { SelectEntry, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

function CalledSopEntry({ element, id }) {
  const modeling = useService('modeling');
  const studio = useService('config.alurStudio') || {};
  return jsx(SelectEntry, {
    id, element, label: 'SOP yang dipanggil',
    getOptions: () => {
      const current = getBusinessObject(element).calledElement || '';
      const known = (studio.knownSops || []).map((sop) => ({ value: sop.process_id, label: `${sop.name} (${sop.process_id})` }));
      const unknown = current && !known.some((o) => o.value === current) ? [{ value: current, label: `${current} (tidak dikenal)` }] : [];
      return [{ value: '', label: '— pilih SOP —' }, ...unknown, ...known];
    },
    getValue: () => getBusinessObject(element).calledElement || '',
    setValue: (value) => modeling.updateProperties(element, { calledElement: value || undefined }),
  });
}

export function calledSopGroup() {
  return { id: 'alur-called-sop', label: 'SOP yang dipanggil', entries: [{ id: 'alur-called-element', component: CalledSopEntry, isEdited: isSelectEntryEdited }] };
}
