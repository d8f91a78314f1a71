// Page "viewer": one deployed SOP version (or a draft) drawn by bpmn-js's NavigatedViewer,
// zoomable (mouse wheel, buttons). The container #studio-viewer carries
//   data-xml-url     the BPMN XML to draw
// and reports data-state = loading | ready | error for tests.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

import alurModdle from '../../../bpmn/alur-moddle.json';
import { fetchText, setState } from '../lib/http.js';
import '../lib/studio.css';
import { zoomControls } from '../lib/zoom.js';

async function main() {
  const root = document.getElementById('studio-viewer');
  if (!root) return;
  const canvasBox = root.querySelector('.studio-canvas');
  const viewer = new NavigatedViewer({ container: canvasBox, moddleExtensions: { alur: alurModdle } });
  zoomControls(root, viewer);
  try {
    const { warnings } = await viewer.importXML(await fetchText(root.dataset.xmlUrl));
    root.dataset.importWarnings = String(warnings.length);
    viewer.get('canvas').zoom('fit-viewport', 'auto');
    setState(root, 'ready');
  } catch (error) {
    setState(root, 'error', error.message);
  }
}

main();
