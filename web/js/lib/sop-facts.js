// What the comparison table shows of an SOP, read from bpmn-moddle definitions: per element its
// name, lane, Mutu Baku, review flag, Keterangan, condition, called SOP; and the SOP header fields.
// facts(definitions) -> Map(id -> {label, facts: {field: text}}).

function alur(bo, type) {
  return ((bo.extensionElements && bo.extensionElements.values) || []).find((v) => v.$type === type);
}

function lanesOf(process) {
  const laneOf = new Map();
  const visit = (laneSet) => ((laneSet && laneSet.lanes) || []).forEach((lane) => {
    (lane.flowNodeRef || []).forEach((node) => laneOf.set(node.id, lane.name || lane.id));
    visit(lane.childLaneSet);
  });
  (process.laneSets || []).forEach(visit);
  return laneOf;
}

function headerFacts(process) {
  const sop = alur(process, 'alur:Sop') || {};
  const list = (value) => (Array.isArray(value) ? value.join(' | ') : value || '');
  const signer = sop.disahkanOleh || {};
  return {
    'Nama SOP': process.name || '', 'Nomor': sop.nomor || '', 'Tanggal pembuatan': sop.tanggalPembuatan || '',
    'Tanggal revisi': sop.tanggalRevisi || '', 'Tanggal efektif': sop.tanggalEfektif || '',
    'Disahkan oleh': [signer.jabatan, signer.nama, signer.nip].filter(Boolean).join(', '),
    'Dasar Hukum': list(sop.dasarHukum), 'Keterkaitan': list(sop.keterkaitan), 'Peralatan': list(sop.peralatan),
    'Kualifikasi Pelaksana': list(sop.kualifikasiPelaksana), 'Peringatan': sop.peringatan || '',
    'Pencatatan': sop.pencatatan || '',
  };
}

export function sopFacts(definitions) {
  const result = new Map();
  for (const process of (definitions.rootElements || []).filter((e) => e.$type === 'bpmn:Process')) {
    result.set(process.id, { label: `Kepala SOP (${process.id})`, facts: headerFacts(process) });
    const laneOf = lanesOf(process);
    for (const element of process.flowElements || []) {
      const facts = { Nama: element.name || '' };
      if (element.$type !== 'bpmn:SequenceFlow') facts.Lajur = laneOf.get(element.id) || '';
      const mutu = alur(element, 'alur:MutuBaku');
      if (mutu) {
        facts.Kelengkapan = mutu.kelengkapan || '';
        facts.Waktu = [mutu.waktu, mutu.waktuText].filter(Boolean).join(' / ');
        facts.Output = mutu.output || '';
      }
      if (element.$type === 'bpmn:UserTask' || element.$type === 'bpmn:CallActivity') {
        facts.Pemeriksaan = alur(element, 'alur:Review') ? 'ya' : 'tidak';
        facts.Keterangan = (alur(element, 'alur:Keterangan') || {}).value || '';
      }
      if (element.$type === 'bpmn:CallActivity') facts['SOP dipanggil'] = element.calledElement || '';
      if (element.conditionExpression) facts.Kondisi = element.conditionExpression.body || '';
      if (element.$type === 'bpmn:SequenceFlow') {
        facts.Dari = element.sourceRef ? element.sourceRef.id : '';
        facts.Ke = element.targetRef ? element.targetRef.id : '';
      }
      result.set(element.id, { label: element.name || element.id, type: element.$type.replace('bpmn:', ''), facts });
    }
  }
  return result;
}
