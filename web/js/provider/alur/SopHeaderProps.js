// Group "Kepala SOP" on the pool (or process): the SOP-AP header (Permenpan RB 35/2012) in
// alur:sop — Nomor, dates, Disahkan oleh (alur:disahkanOleh), and the list fields, one entry per line.
import { TextAreaEntry, TextFieldEntry, isTextAreaEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { blankToUndefined, findExtension, setExtension } from './extensions.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function processOf(element) {
  const bo = getBusinessObject(element);
  return is(bo, 'bpmn:Participant') ? bo.processRef : bo;
}

function sopOf(element) {
  return findExtension(processOf(element), 'alur:Sop') || {};
}

function attrEntry(name, label, validate) {
  return function Entry({ element, id }) {
    const injector = useService('injector');
    const debounce = useService('debounceInput');
    return jsx(TextFieldEntry, {
      id, element, label, debounce, validate,
      getValue: () => sopOf(element)[name] || '',
      setValue: (value) => setExtension(injector, element, 'alur:Sop', { [name]: blankToUndefined(value) }, processOf(element)),
    });
  };
}

function listEntry(name, label, single) {
  return function Entry({ element, id }) {
    const injector = useService('injector');
    const debounce = useService('debounceInput');
    return jsx(TextAreaEntry, {
      id, element, label: single ? label : `${label} (satu per baris)`, debounce, rows: single ? 2 : 3,
      getValue: () => {
        const value = sopOf(element)[name];
        return Array.isArray(value) ? value.join('\n') : (value || '');
      },
      setValue: (value) => {
        const lines = (value || '').split('\n').map((line) => line.trim()).filter(Boolean);
        setExtension(injector, element, 'alur:Sop', { [name]: single ? (lines.join(' ') || undefined) : lines }, processOf(element));
      },
    });
  };
}

function signerEntry(name, label, validate) {
  return function Entry({ element, id }) {
    const injector = useService('injector');
    const debounce = useService('debounceInput');
    return jsx(TextFieldEntry, {
      id, element, label, debounce, validate,
      getValue: () => (sopOf(element).disahkanOleh || {})[name] || '',
      setValue: (value) => {
        const sop = setExtension(injector, element, 'alur:Sop', {}, processOf(element));
        let signer = sop.disahkanOleh;
        const commandStack = injector.get('commandStack');
        if (!signer) {
          signer = injector.get('bpmnFactory').create('alur:DisahkanOleh');
          signer.$parent = sop;
          commandStack.execute('element.updateModdleProperties', { element, moddleElement: sop, properties: { disahkanOleh: signer } });
        }
        commandStack.execute('element.updateModdleProperties', { element, moddleElement: signer, properties: { [name]: blankToUndefined(value) } });
      },
    });
  };
}

const validateDate = (value) => (!value || ISO_DATE.test(value) ? null : 'Tanggal harus YYYY-MM-DD');
const validateNip = (value) => (!value || /^\d{18}$/.test(value) ? null : 'NIP harus 18 angka');

const FIELDS = [
  ['nomor', attrEntry('nomor', 'Nomor SOP'), isTextFieldEntryEdited],
  ['tanggal-pembuatan', attrEntry('tanggalPembuatan', 'Tanggal pembuatan', validateDate), isTextFieldEntryEdited],
  ['tanggal-revisi', attrEntry('tanggalRevisi', 'Tanggal revisi', validateDate), isTextFieldEntryEdited],
  ['tanggal-efektif', attrEntry('tanggalEfektif', 'Tanggal efektif', validateDate), isTextFieldEntryEdited],
  ['disahkan-jabatan', signerEntry('jabatan', 'Disahkan oleh: jabatan'), isTextFieldEntryEdited],
  ['disahkan-nama', signerEntry('nama', 'Disahkan oleh: nama'), isTextFieldEntryEdited],
  ['disahkan-nip', signerEntry('nip', 'Disahkan oleh: NIP', validateNip), isTextFieldEntryEdited],
  ['dasar-hukum', listEntry('dasarHukum', 'Dasar Hukum'), isTextAreaEntryEdited],
  ['keterkaitan', listEntry('keterkaitan', 'Keterkaitan'), isTextAreaEntryEdited],
  ['peralatan', listEntry('peralatan', 'Peralatan/Perlengkapan'), isTextAreaEntryEdited],
  ['kualifikasi', listEntry('kualifikasiPelaksana', 'Kualifikasi Pelaksana'), isTextAreaEntryEdited],
  ['peringatan', listEntry('peringatan', 'Peringatan', true), isTextAreaEntryEdited],
  ['pencatatan', listEntry('pencatatan', 'Pencatatan dan Pendataan', true), isTextAreaEntryEdited],
];

export function sopHeaderGroup(element) {
  if (!processOf(element)) return null;
  return {
    id: 'alur-sop-header',
    label: 'Kepala SOP',
    entries: FIELDS.map(([id, component, isEdited]) => ({ id: `alur-sop-${id}`, component, isEdited })),
  };
}
