// bpmnlint plugin "alur": Alur's SOP conventions (bpmn/README.md) and what the engine runs.
// Used by the studio's modeler (bpmn-js-bpmnlint, bundled by scripts/build_web.mjs) and by
// tests/js/lint_bpmn.mjs over bpmn/. `called-sop-known` takes {known: [process ids]}.
module.exports = {
  configs: {
    recommended: {
      rules: {
        'user-task-in-lane': 'error',
        'review-gateway': 'error',
        'waktu': 'error',
        'called-sop-known': 'error',
        'engine-support': 'error',
        'foreign-extensions': 'warn',
        'step-label': 'error',
      },
    },
  },
};
