// The team picker of a "Membentuk tim" step (templates/tasks/show.html): a search box that
// hides the people whose name or jabatan does not contain what is typed. Without JavaScript
// the box stays hidden and every person is listed.
(function () {
  'use strict';

  const search = document.getElementById('team-search');
  const list = document.getElementById('tim');
  const none = document.getElementById('team-none');
  if (!search || !list) return;
  search.hidden = false;
  search.addEventListener('input', () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of list.querySelectorAll('li')) {
      const text = item.dataset.search || '';
      const match = words.every((w) => text.includes(w)) || item.querySelector('input:checked') !== null;
      item.hidden = !match;
      if (match) shown += 1;
    }
    none.hidden = shown > 0;
  });
}());
