// A horizontal bar chart in inline SVG (no library). The same numbers are always also given in a
// table next to it, so the chart itself is one labelled image for assistive technology.
import { h, fmtNumber } from './dom.js';

/**
 * rows: [{label, value}] ; opts: {title, max, unit, digits}
 * Widths are percentages and text has a fixed size, so the chart fits a 360 px phone and a
 * desktop alike without scaling the text.
 */
export function barChart(rows, { title = 'Grafik', max, unit = '', digits = 0 } = {}) {
  const labelH = 18;
  const barH = 14;
  const gap = 10;
  const rowH = labelH + barH + gap;
  const H = Math.max(rowH, rows.length * rowH);
  const top = Math.max(1, max ?? Math.max(0, ...rows.map((r) => Number(r.value) || 0)));
  const barPct = 80;
  const titleId = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const summary = rows.map((r) => `${r.label}: ${r.value === null || r.value === undefined ? 'tidak ada data' : `${fmtNumber(r.value, digits)}${unit}`}`).join('; ');

  const svg = h('svg:svg', { class: 'chart', width: '100%', height: H, role: 'img', 'aria-labelledby': titleId });
  svg.append(h('svg:title', { id: titleId }, `${title}. ${summary}`));
  rows.forEach((r, i) => {
    const y = i * rowH;
    const v = Math.max(0, Number(r.value) || 0);
    const w = (barPct * Math.min(v, top)) / top;
    const label = String(r.label);
    svg.append(
      h('svg:text', { x: 0, y: y + 13 }, label.length > 44 ? `${label.slice(0, 42)}…` : label),
      h('svg:rect', { class: 'bar-bg', x: 0, y: y + labelH, width: `${barPct}%`, height: barH, rx: 2 }),
      h('svg:rect', { class: 'bar', x: 0, y: y + labelH, width: `${w.toFixed(2)}%`, height: barH, rx: 2 }),
      h('svg:text', { x: `${barPct + 2}%`, y: y + labelH + 12 },
        r.value === null || r.value === undefined ? '–' : `${fmtNumber(v, digits)}${unit}`),
    );
  });
  return svg;
}

/** A table in its own scrollable, focusable region (so the page never scrolls sideways). */
export function table({ caption, columns, rows, rowAttrs }) {
  const t = h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map((c, i) => {
      const v = typeof c.get === 'function' ? c.get(r) : r[c.key];
      const cell = v instanceof Node ? v : (c.num ? fmtNumber(v, c.digits ?? 0) : (v ?? '–'));
      return i === 0 ? h('th', { scope: 'row' }, cell) : h('td', { class: c.num ? 'num' : null }, cell);
    })))));
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': caption ? `Tabel ${caption}` : 'Tabel' }, t);
}
