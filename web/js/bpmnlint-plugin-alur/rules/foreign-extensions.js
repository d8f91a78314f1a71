// Extensions of other tools (camunda:, zeebe:, ...) are kept when the file is saved but the
// engine ignores them: say so, once per element.
'use strict';

const { extensionValues } = require('../lib/alur');

function prefixOf(value) {
  const type = (value && value.$type) || '';
  return type.includes(':') ? type.split(':')[0] : '';
}

module.exports = function() {
  function check(node, reporter) {
    if (!node.id) return;
    const foreign = new Set();
    for (const value of extensionValues(node)) {
      const prefix = prefixOf(value);
      if (prefix && prefix !== 'alur') foreign.add(prefix);
    }
    for (const name of Object.keys(node.$attrs || {})) {
      const prefix = name.includes(':') ? name.split(':')[0] : '';
      if (prefix && prefix !== 'xmlns' && prefix !== 'alur') foreign.add(prefix);
    }
    if (foreign.size) {
      reporter.report(node.id, `Ekstensi ${[...foreign].sort().join(', ')}: disimpan, tetapi tidak dijalankan Alur`);
    }
  }
  return { check };
};
