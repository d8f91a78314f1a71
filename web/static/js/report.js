// The compliance report's pictures; the tables under them carry the same figures without JavaScript.
// #trend-chart (Chart.js, global `Chart`): steps completed and share on time per month, from data-chart.
// #heatmap (bpmn-js, global `BpmnJS`): each step filled by its share of late runs (data-shares
// {element id: 0..1}), with the percentage as an overlay. #heatmap reports data-state = ready | error.
(function () {
  'use strict';

  const chartCanvas = document.getElementById('trend-chart');
  if (chartCanvas && typeof window.Chart === 'function') {
    const data = JSON.parse(chartCanvas.dataset.chart);
    // eslint-disable-next-line no-new
    new window.Chart(chartCanvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: 'bar', label: chartCanvas.dataset.labelRuns, data: data.runs, yAxisID: 'y', backgroundColor: '#9ec5fe' },
          { type: 'line', label: chartCanvas.dataset.labelOnTime, data: data.on_time, yAxisID: 'y1', borderColor: '#198754' },
        ],
      },
      options: {
        animation: false,
        scales: { y: { beginAtZero: true, position: 'left' }, y1: { min: 0, max: 100, position: 'right', grid: { drawOnChartArea: false } } },
      },
    });
    chartCanvas.dataset.state = 'ready';
  }

  const heat = document.getElementById('heatmap');
  if (!heat) return;
  async function draw() {
    if (typeof window.BpmnJS !== 'function') throw new Error('bpmn-js missing');
    const get = async (url) => {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response;
    };
    const [xml, alur] = await Promise.all([
      get(heat.dataset.xmlUrl).then((r) => r.text()),
      get(heat.dataset.moddleUrl).then((r) => r.json()),
    ]);
    const box = document.getElementById('heatmap-canvas');
    const viewer = new window.BpmnJS({ container: box, moddleExtensions: { alur } });
    await viewer.importXML(xml);
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    window.alurZoom.fit(canvas, box);
    window.alurZoom.controls(() => viewer, box, { zoomIn: 'heatmap-zoom-in', zoomOut: 'heatmap-zoom-out', fit: 'heatmap-fit' });
    for (const [id, share] of Object.entries(JSON.parse(heat.dataset.shares))) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, `alur-heat-${Math.min(4, Math.floor(share * 5))}`);
      const badge = document.createElement('span');
      badge.className = 'alur-heat-badge';
      badge.textContent = `${Math.round(share * 100)} %`;
      overlays.add(id, { position: { bottom: 4, left: 4 }, html: badge });
    }
    heat.dataset.state = 'ready';
  }
  draw().catch((error) => { console.error('Alur heatmap:', error); heat.dataset.state = 'error'; });
}());
