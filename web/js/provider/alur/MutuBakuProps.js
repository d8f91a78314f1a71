// Group "Mutu Baku": Kelengkapan, Waktu as ISO 8601 (checked as typed) beside its source text, Output.
// Typing a source text that parses ("30 menit") also fills the ISO duration (one undo step).
import { TextFieldEntry, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { parseIso, parseText, toIso } from 'bpmnlint-plugin-alur/lib/waktu';

import { blankToUndefined, findExtension, setExtension } from './extensions.js';

const TYPE = 'alur:MutuBaku';

function attrEntry(name, label, { validate, extra } = {}) {
  return function Entry({ element, id }) {
    const injector = useService('injector');
    const debounce = useService('debounceInput');
    return jsx(TextFieldEntry, {
      id, element, label, debounce, validate,
      getValue: () => (findExtension(getBusinessObject(element), TYPE) || {})[name] || '',
      setValue: (value) => setExtension(injector, element, TYPE, { [name]: blankToUndefined(value), ...(extra ? extra(value) : {}) }),
    });
  };
}

export function validateWaktu(value) {
  if (!value) return null;
  return parseIso(value) ? null : 'Waktu harus ISO 8601: PT30M (menit), PT2H (jam), P1D (hari kerja), P1W (minggu kerja)';
}

const WaktuText = attrEntry('waktuText', 'Waktu (teks sumber)', {
  extra: (value) => {
    const parsed = parseText(value);
    return parsed ? { waktu: toIso(parsed) } : {};
  },
});

export function mutuBakuGroup(element) {
  return {
    id: 'alur-mutu-baku',
    label: 'Mutu Baku',
    entries: [
      { id: 'alur-kelengkapan', component: attrEntry('kelengkapan', 'Kelengkapan'), isEdited: isTextFieldEntryEdited },
      { id: 'alur-waktu', component: attrEntry('waktu', 'Waktu (ISO 8601)', { validate: validateWaktu }), isEdited: isTextFieldEntryEdited },
      { id: 'alur-waktu-text', component: WaktuText, isEdited: isTextFieldEntryEdited },
      { id: 'alur-output', component: attrEntry('output', 'Output'), isEdited: isTextFieldEntryEdited },
    ],
  };
}
