// Alur's properties provider module for bpmn-js-properties-panel (see AlurPropertiesProvider.js).
import AlurPropertiesProvider from './AlurPropertiesProvider.js';

export default {
  __init__: ['alurPropertiesProvider'],
  alurPropertiesProvider: ['type', AlurPropertiesProvider],
};
