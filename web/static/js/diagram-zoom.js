// Zoom for the read-only bpmn-js diagrams of the Ruang Auditor (the timeline, the heatmap):
// on load the box takes the height the diagram needs at the box's width (within limits) and the
// diagram fits it; the buttons zoom in, out, and back to the fit. Mouse wheel and dragging work as
// bpmn-js's NavigatedViewer provides. Used by timeline.js and report.js: window.alurZoom.
(function () {
  'use strict';

  const MIN_HEIGHT_PX = 360;
  const MAX_HEIGHT_PX = 720;
  const STEP = 1.25;

  function fit(canvas, box) {
    const inner = canvas.viewbox().inner;
    if (inner.width > 0 && box.clientWidth > 0) {
      const wanted = Math.round((box.clientWidth * inner.height) / inner.width) + 48;
      box.style.height = `${Math.min(Math.max(wanted, MIN_HEIGHT_PX), MAX_HEIGHT_PX)}px`;
      canvas.resized();
    }
    canvas.zoom('fit-viewport', 'auto');
    box.dataset.zoom = canvas.zoom().toFixed(3);
  }

  function zoomBy(canvas, box, factor) {
    canvas.zoom(canvas.zoom() * factor);
    box.dataset.zoom = canvas.zoom().toFixed(3); // the current scale, for tests and styles
  }

  // `viewer()` returns the current viewer (the timeline replaces its diagram); `ids` are the three buttons.
  function controls(viewer, box, ids) {
    const on = (id, action) => {
      const button = document.getElementById(id);
      if (button) button.addEventListener('click', () => action(viewer().get('canvas')));
    };
    on(ids.zoomIn, (canvas) => zoomBy(canvas, box, STEP));
    on(ids.zoomOut, (canvas) => zoomBy(canvas, box, 1 / STEP));
    on(ids.fit, (canvas) => fit(canvas, box));
  }

  window.alurZoom = { fit, controls };
}());
