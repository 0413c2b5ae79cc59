// A horizontal bar chart in inline SVG (no library). The same numbers are always also given in a
// table next to it, so the chart itself is one labelled image for assistive technology.
import { h, fmtNumber } from './dom.js';

/**
 * rows: [{label, value}] ; opts: {title, max, unit, digits}
 * The view box is 320 units wide so labels stay readable on a 360 px phone.
 */
export function barChart(rows, { title = 'Grafik', max, unit = '', digits = 0 } = {}) {
  const W = 320;
  const labelH = 16;
  const barH = 14;
  const gap = 10;
  const rowH = labelH + barH + gap;
  const H = Math.max(rowH, rows.length * rowH);
  const top = Math.max(1, max ?? Math.max(0, ...rows.map((r) => Number(r.value) || 0)));
  const valueW = 56;
  const titleId = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const summary = rows.map((r) => `${r.label}: ${fmtNumber(r.value, digits)}${unit}`).join('; ');

  const svg = h('svg:svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId, preserveAspectRatio: 'xMinYMin meet',
  });
  svg.append(h('svg:title', { id: titleId }, `${title}. ${summary}`));
  rows.forEach((r, i) => {
    const y = i * rowH;
    const v = Math.max(0, Number(r.value) || 0);
    const w = Math.round(((W - valueW) * Math.min(v, top)) / top);
    const label = String(r.label);
    svg.append(
      h('svg:text', { x: 0, y: y + 12 }, label.length > 48 ? `${label.slice(0, 46)}…` : label),
      h('svg:rect', { class: 'bar-bg', x: 0, y: y + labelH, width: W - valueW, height: barH, rx: 2 }),
      h('svg:rect', { class: 'bar', x: 0, y: y + labelH, width: w, height: barH, rx: 2 }),
      h('svg:text', { x: W - valueW + 6, y: y + labelH + 11 },
        r.value === null || r.value === undefined ? '–' : `${fmtNumber(v, digits)}${unit}`),
    );
  });
  return svg;
}

/** A table in its own scrollable, focusable region (so the page never scrolls sideways). */
export function table({ caption, columns, rows }) {
  const t = h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c, i) => {
      const v = typeof c.get === 'function' ? c.get(r) : r[c.key];
      const cell = v instanceof Node ? v : (c.num ? fmtNumber(v, c.digits ?? 0) : (v ?? '–'));
      return i === 0 ? h('th', { scope: 'row' }, cell) : h('td', { class: c.num ? 'num' : null }, cell);
    })))));
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': caption || 'Tabel' }, t);
}
