// Statistik: public monthly figures from GET /stats?period=YYYY-MM. The response shape is still
// being settled, so every key is rendered defensively: maps of counts become a chart + table,
// lists of objects become tables, plain numbers become figures.
import { h, clear, thisMonthWib, fmtMonth, fmtNumber } from '../dom.js';
import { api, reference, ApiError } from '../api.js';
import { field, val, showErrors } from '../forms.js';
import { barChart, table } from '../chart.js';
import { STATUS, TYPES, PRIVACY } from '../labels.js';
import { PERF_COLUMNS } from './kinerja.js';

export const title = 'Statistik';

const SECTION_TITLE = {
  by_status: 'Laporan menurut status', status: 'Laporan menurut status',
  by_category: 'Laporan menurut kategori', category: 'Laporan menurut kategori', categories: 'Laporan menurut kategori',
  by_kecamatan: 'Laporan menurut kecamatan', kecamatan: 'Laporan menurut kecamatan',
  by_type: 'Laporan menurut jenis', type: 'Laporan menurut jenis',
  by_privacy: 'Laporan menurut kerahasiaan',
  by_opd: 'Laporan menurut OPD', opd: 'Tanggapan per OPD', per_opd: 'Tanggapan per OPD', opds: 'Tanggapan per OPD',
  performance: 'Tanggapan per OPD',
};
const FIGURE_TITLE = {
  total: 'Jumlah laporan', received: 'Laporan diterima', responded: 'Sudah ditanggapi', closed: 'Selesai',
  open: 'Masih terbuka', overdue_open: 'Terbuka lewat tenggat', on_time_pct: 'Ditanggapi tepat waktu (%)',
  median_first_response_hours: 'Median tanggapan pertama (jam)', avg_rating: 'Rata-rata nilai',
};

function human(key) {
  return SECTION_TITLE[key] || FIGURE_TITLE[key] || key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

async function labeller(key) {
  if (/status/.test(key)) return (k) => (STATUS[k] ? STATUS[k].label : k);
  if (/type/.test(key)) return (k) => (TYPES[k] ? TYPES[k].label : k);
  if (/privacy/.test(key)) return (k) => (PRIVACY[k] ? PRIVACY[k].label : k);
  const kind = /kecamatan/.test(key) ? 'kecamatan' : /categor/.test(key) ? 'categories' : /opd/.test(key) ? 'opds' : null;
  if (!kind) return (k) => k;
  let items = [];
  try { items = await reference(kind); } catch { items = []; }
  return (k) => { const it = items.find((x) => x.code === k); return it ? it.name : k; };
}

function isCountMap(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number');
}

/** A list like [{code|name|status|kecamatan..., count}] becomes a count map too. */
function listToCounts(v) {
  if (!Array.isArray(v) || !v.length || !v.every((x) => x && typeof x === 'object')) return null;
  const numKeys = Object.keys(v[0]).filter((k) => typeof v[0][k] === 'number');
  const strKeys = Object.keys(v[0]).filter((k) => typeof v[0][k] === 'string');
  if (numKeys.length !== 1 || !strKeys.length) return null;
  const labelKey = strKeys.find((k) => /name|nama/.test(k)) || strKeys[0];
  const out = {};
  for (const x of v) out[x[labelKey]] = x[numKeys[0]];
  return out;
}

async function countSection(key, counts) {
  const name = await labeller(key);
  const rows = Object.entries(counts).map(([k, v]) => ({ label: name(k), value: v })).sort((a, b) => b.value - a.value);
  const title = human(key);
  return h('section', { 'aria-labelledby': `st-${key}` },
    h('h2', { id: `st-${key}` }, title),
    rows.length ? [
      barChart(rows, { title }),
      table({ caption: title, columns: [{ label: 'Kelompok', key: 'label' }, { label: 'Jumlah', key: 'value', num: true }], rows }),
    ] : h('p', {}, 'Belum ada data.'));
}

function objectTable(key, list) {
  const known = PERF_COLUMNS.filter((c) => list.some((r) => c.key in r));
  const extra = Array.from(new Set(list.flatMap((r) => Object.keys(r))))
    .filter((k) => !known.some((c) => c.key === k) && !['opd_code'].includes(k) && list.some((r) => r[k] !== null && typeof r[k] !== 'object'));
  const columns = [
    ...known,
    ...extra.map((k) => ({ key: k, label: human(k), num: list.every((r) => r[k] === null || r[k] === undefined || typeof r[k] === 'number') })),
  ];
  if (columns.length && columns[0].key !== 'opd_name' && list.some((r) => r.opd_name)) {
    columns.unshift(PERF_COLUMNS[0]);
  }
  return h('section', { 'aria-labelledby': `st-${key}` },
    h('h2', { id: `st-${key}` }, human(key)),
    list.length ? table({ caption: human(key), columns, rows: list }) : h('p', {}, 'Belum ada data.'));
}

export async function renderStats(container, data) {
  clear(container);
  const figures = [];
  const sections = [];
  for (const [key, v] of Object.entries(data || {})) {
    if (key === 'period' || key === 'generated_at') continue;
    if (typeof v === 'number') figures.push([key, v]);
    else if (isCountMap(v)) sections.push(await countSection(key, v));
    else if (listToCounts(v)) sections.push(await countSection(key, listToCounts(v)));
    else if (Array.isArray(v) && v.every((x) => x && typeof x === 'object')) sections.push(objectTable(key, v));
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      // A nested group of figures, e.g. {"response": {"on_time_pct": 80}}.
      const nums = Object.entries(v).filter(([, x]) => typeof x === 'number');
      if (nums.length) {
        sections.push(h('section', { 'aria-labelledby': `st-${key}` }, h('h2', { id: `st-${key}` }, human(key)),
          h('dl', { class: 'props' }, nums.map(([k, x]) => [h('dt', {}, human(k)), h('dd', {}, fmtNumber(x, 1))]))));
      }
    }
  }
  if (figures.length) {
    container.append(h('dl', { class: 'props' }, figures.map(([k, x]) => [h('dt', {}, human(k)), h('dd', {}, fmtNumber(x, 1))])));
  }
  container.append(...sections);
  if (!figures.length && !sections.length) container.append(h('p', {}, 'Belum ada data untuk periode ini.'));
  if (data && data.generated_at) container.append(h('p', { class: 'hint' }, `Diperbarui: ${data.generated_at}`));
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
