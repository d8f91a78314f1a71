// Zoom buttons for a bpmn-js viewer or modeler: elements with data-zoom = in | out | fit
// inside `root` (the canvas itself zooms with Ctrl + mouse wheel, pans by dragging).
const STEP = 1.2;

export function zoomControls(root, diagram) {
  const canvas = diagram.get('canvas');
  root.querySelectorAll('[data-zoom]').forEach((button) => {
    button.addEventListener('click', () => {
      const action = button.dataset.zoom;
      if (action === 'fit') canvas.zoom('fit-viewport', 'auto');
      else canvas.zoom(canvas.zoom() * (action === 'in' ? STEP : 1 / STEP));
    });
  });
}
