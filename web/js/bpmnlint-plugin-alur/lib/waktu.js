// Waktu (Mutu Baku): the same grammar as engine/waktu.py.
//   ISO 8601 as stored:  PT{n}M (menit), PT{n}H (jam), P{n}D (hari kerja), P{n}W (minggu kerja)
//   source text:         "<n> menit|jam|hari|minggu" (any case, spaces)
// parseIso / parseText return {amount, unit} or null; n is a whole number 1..999999.
'use strict';

const ISO = /^P(?:T(\d{1,6})([MH])|(\d{1,6})([DW]))$/;
const TEXT = /^\s*(\d{1,6})\s*(menit|jam|hari|minggu)\s*$/i;
const ISO_UNIT = { M: 'menit', H: 'jam', D: 'hari', W: 'minggu' };
const UNIT_ISO = { menit: ['PT', 'M'], jam: ['PT', 'H'], hari: ['P', 'D'], minggu: ['P', 'W'] };

function parseIso(value) {
  const match = typeof value === 'string' ? ISO.exec(value.trim()) : null;
  if (!match) return null;
  const amount = parseInt(match[1] || match[3], 10);
  return amount > 0 ? { amount, unit: ISO_UNIT[match[2] || match[4]] } : null;
}

function parseText(value) {
  const match = typeof value === 'string' ? TEXT.exec(value) : null;
  if (!match) return null;
  const amount = parseInt(match[1], 10);
  return amount > 0 ? { amount, unit: match[2].toLowerCase() } : null;
}

function toIso(waktu) {
  const [prefix, designator] = UNIT_ISO[waktu.unit];
  return `${prefix}${waktu.amount}${designator}`;
}

module.exports = { parseIso, parseText, toIso };
