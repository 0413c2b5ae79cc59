// Statistik: public monthly figures from GET /stats?period=YYYY-MM, in the API's shape
// (PublicStats): {period, as_of, reports: {total, by_status, by_category, by_kecamatan,
// not_broken_down}, opd_response: [...]}. Every section is a chart and the same numbers as a table.
import { h, clear, thisMonthWib, fmtMonth, fmtNumber, fmtDateTime } from '../dom.js';
import { api, reference, ApiError } from '../api.js';
import { field, val, showErrors } from '../forms.js';
import { barChart, table } from '../chart.js';
import { STATUS } from '../labels.js';
import { PERF_COLUMNS } from './kinerja.js';
import { kecamatanMap } from '../geo.js';

export const title = 'Statistik';

const OPD_COLUMNS = PERF_COLUMNS.filter((c) => ['opd_name', 'received', 'responded', 'responded_on_time', 'on_time_pct',
  'median_first_response_hours'].includes(c.key));

async function names(kind) {
  try {
    const items = await reference(kind);
    return (k) => { const it = items.find((x) => x.code === k); return it ? it.name : k; };
  } catch {
    return (k) => k;
  }
}

function countSection(id, title, rows, extra) {
  return h('section', { 'aria-labelledby': `st-${id}`, class: 'stat-section', 'data-section': id },
    h('h2', { id: `st-${id}` }, title),
    rows.length ? [
      extra || null,
      barChart(rows, { title }),
      table({ caption: title, columns: [{ label: 'Kelompok', key: 'label' }, { label: 'Jumlah', key: 'value', num: true }], rows }),
    ] : h('p', {}, 'Belum ada laporan pada periode ini.'));
}

const byCountThenName = (a, b) => b.value - a.value || a.label.localeCompare(b.label, 'id');

export async function renderStats(container, data) {
  clear(container);
  const counts = (data && data.reports) || {};
  const [catName, kecName] = await Promise.all([names('categories'), names('kecamatan')]);
  const statusOrder = Object.keys(STATUS);
  const byStatus = Object.entries(counts.by_status || {})
    .map(([k, v]) => ({ code: k, label: STATUS[k] ? STATUS[k].label : k, value: v }))
    .sort((a, b) => statusOrder.indexOf(a.code) - statusOrder.indexOf(b.code));
  const byCategory = Object.entries(counts.by_category || {})
    .map(([k, v]) => ({ label: k === 'tanpa_kategori' ? 'Belum berkategori' : catName(k), value: v }))
    .sort(byCountThenName);
  const byKecamatan = Object.entries(counts.by_kecamatan || {})
    .map(([k, v]) => ({ code: k, label: kecName(k), value: v }))
    .sort(byCountThenName);
  const hidden = counts.not_broken_down || 0;

  const figures = [['Jumlah laporan', counts.total ?? 0]];
  if (hidden) figures.push(['Laporan rahasia (hanya dihitung)', hidden]);
  container.append(
    data && data.as_of ? h('p', { class: 'hint', id: 'stat-as-of' }, `Data per ${fmtDateTime(data.as_of)}.`) : null,
    h('dl', { class: 'props figures' }, figures.map(([k, x]) => [h('dt', {}, k), h('dd', {}, fmtNumber(x))])),
    countSection('status', 'Laporan menurut status', byStatus),
    countSection('kategori', 'Laporan menurut kategori', byCategory),
    countSection('kecamatan', 'Laporan menurut kecamatan', byKecamatan,
      byKecamatan.length ? kecamatanMap(byKecamatan) : null),
  );
  if (hidden) {
    container.append(h('p', { class: 'hint' }, `${fmtNumber(hidden)} laporan rahasia dihitung dalam jumlah dan status saja, `
      + 'tidak menurut kategori atau kecamatan, agar pelapornya tidak dapat dikenali.'));
  }
  const opds = Array.isArray(data && data.opd_response) ? data.opd_response : [];
  container.append(h('section', { 'aria-labelledby': 'st-opd', 'data-section': 'opd' },
    h('h2', { id: 'st-opd' }, 'Tanggapan perangkat daerah (OPD)'),
    opds.length
      ? table({ caption: 'Tanggapan perangkat daerah (OPD)', columns: OPD_COLUMNS, rows: opds })
      : h('p', {}, 'Belum ada laporan yang diteruskan ke OPD pada periode ini.')));
}

export async function render(view, { query }) {

  const period = /^\d{4}-\d{2}$/.test(query.get('period') || '') ? query.get('period') : thisMonthWib();
  const result = h('div', { 'aria-live': 'polite', 'aria-busy': 'false' });
  const form = h('form', { novalidate: true, class: 'card' },
    field({ label: 'Bulan', name: 'period', type: 'month', attrs: { value: period, max: thisMonthWib() }, hint: 'Format: tahun-bulan, misalnya 2026-03.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Tampilkan')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = val(form, 'period');
    if (!/^\d{4}-\d{2}$/.test(p)) { showErrors(form, [{ field: 'period', message: 'Isi bulan dengan format tahun-bulan, misalnya 2026-03.' }]); return; }
    window.location.hash = `#/statistik?period=${p}`;
  });
  const heading = h('h2', {}, `Periode ${fmtMonth(period)}`);
  view.append(
    h('h1', {}, 'Statistik laporan'),
    h('p', {}, 'Angka bulanan laporan masyarakat Kabupaten Bandung Barat. Laporan rahasia hanya dihitung, isinya tidak ditampilkan.'),
    form, heading, result);
  result.setAttribute('aria-busy', 'true');
  result.append(h('p', {}, 'Memuat statistik…'));
  try {
    const data = await api('/stats', { query: { period } });
    await renderStats(result, data);
  } catch (err) {
    clear(result);
    result.append(h('div', { class: 'msg msg-warn' }, h('p', {},
      err instanceof ApiError && err.status === 404 ? 'Statistik belum tersedia.' : `Statistik gagal dimuat. ${err.text || ''}`)));
  } finally {
    result.setAttribute('aria-busy', 'false');
  }
}
