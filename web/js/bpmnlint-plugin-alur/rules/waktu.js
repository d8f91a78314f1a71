// Every step (user task, call activity) has a Waktu (alur:mutuBaku waktu) that parses as
// ISO 8601 PT{n}M | PT{n}H | P{n}D | P{n}W and agrees with its source text (waktuText).
// An explicitly empty <alur:mutuBaku/> (the source's Mutu Baku row is empty) is accepted.
'use strict';

const { is } = require('bpmnlint-utils');
const { alurElement, attr } = require('../lib/alur');
const { parseIso, parseText, toIso } = require('../lib/waktu');

module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask') && !is(node, 'bpmn:CallActivity')) return;
    const mutu = alurElement(node, 'mutuBaku');
    if (!mutu) {
      reporter.report(node.id, 'Waktu (Mutu Baku) belum diisi');
      return;
    }
    const waktu = attr(mutu, 'waktu');
    const text = attr(mutu, 'waktuText');
    if (waktu === undefined && text === undefined) {
      if (['kelengkapan', 'output'].some((name) => attr(mutu, name) !== undefined)) {
        reporter.report(node.id, 'Waktu (Mutu Baku) belum diisi');
      }
      return;
    }
    const parsed = parseIso(waktu);
    if (!parsed) {
      reporter.report(node.id, `Waktu "${waktu || ''}" bukan durasi PT{n}M, PT{n}H, P{n}D atau P{n}W`);
      return;
    }
    const fromText = parseText(text);
    if (text !== undefined && fromText && toIso(fromText) !== toIso(parsed)) {
      reporter.report(node.id, `Waktu ${waktu} tidak sama dengan teks sumber "${text}"`);
    }
  }
  return { check };
};
