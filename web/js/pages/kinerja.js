// Kinerja OPD: the monthly scoreboard (admin, pimpinan) from GET /staff/performance, as a table,
// a bar chart of on-time responses, and a CSV download.
import { h, clear, thisMonthWib, fmtMonth, downloadBlob } from '../dom.js';
import { api, ApiError } from '../api.js';
import { field, val, showErrors } from '../forms.js';
import { barChart, table } from '../chart.js';
import { session } from '../auth.js';
import { channelLabel } from '../labels.js';

export const title = 'Kinerja OPD';

/** Reports of the month per channel (GET /stats: counts only, rahasia included). */
async function channelTable(period) {
  try {
    const stats = await api('/stats', { query: { period } });
    const rows = Object.entries((stats && stats.reports && stats.reports.by_channel) || {})
      .map(([code, count]) => ({ channel: channelLabel(code), count })).sort((a, b) => b.count - a.count);
    if (!rows.length) return h('p', {}, 'Belum ada laporan masuk pada periode ini.');
    return h('section', { 'aria-labelledby': 'saluran-h' }, h('h3', { id: 'saluran-h' }, 'Laporan menurut saluran'),
      table({ caption: `Laporan masuk ${fmtMonth(period)} menurut saluran`, rows,
        columns: [{ key: 'channel', label: 'Saluran' }, { key: 'count', label: 'Jumlah', num: true }] }));
  } catch {
    return h('p', { class: 'hint' }, 'Rekap per saluran belum dapat dimuat.');
  }
}

/** on_time_pct as a percentage: the contract gives 0..100; a 0..1 fraction is recognised by the counts. */
export function pct(r) {
  const v = r.on_time_pct;
  if (v === null || v === undefined || v === '') return null;
  const x = Number(v);
  const ratio = r.responded > 0 ? r.responded_on_time / r.responded : null;
  if (ratio !== null && x <= 1 && Math.abs(x - ratio) < 1e-6) return x * 100;
  return x;
}

export const PERF_COLUMNS = [
  { key: 'opd_name', label: 'OPD', get: (r) => r.opd_name || r.opd_code },
  { key: 'received', label: 'Diterima', num: true },
  { key: 'responded', label: 'Ditanggapi', num: true },
  { key: 'responded_on_time', label: 'Tepat waktu', num: true },
  { key: 'on_time_pct', label: '% tepat waktu', num: true, digits: 1, get: pct },
  { key: 'median_first_response_hours', label: 'Median tanggapan pertama (jam)', num: true, digits: 1 },
  { key: 'overdue_open', label: 'Terbuka lewat tenggat', num: true },
  { key: 'returned', label: 'Dikembalikan', num: true },
  { key: 'avg_rating', label: 'Rata-rata nilai (1–5)', num: true, digits: 2 },
];

export async function render(view, { query }) {
  const s = session();
  view.append(h('h1', {}, 'Kinerja OPD'));
  if (!s || !['admin', 'pimpinan'].includes(s.role)) {
    view.append(h('div', { class: 'msg msg-warn' }, h('p', {}, 'Halaman ini hanya untuk admin Diskominfotik dan pimpinan.')));
    return;
  }
  const period = /^\d{4}-\d{2}$/.test(query.get('period') || '') ? query.get('period') : thisMonthWib();
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const result = h('div', {});
  const csvButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Unduh CSV');
  const form = h('form', { novalidate: true, class: 'card' },
    field({ label: 'Bulan', name: 'period', type: 'month', attrs: { value: period, max: thisMonthWib() } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Tampilkan'), csvButton));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = val(form, 'period');
    if (!/^\d{4}-\d{2}$/.test(p)) { showErrors(form, [{ field: 'period', message: 'Isi bulan dengan format tahun-bulan, misalnya 2026-03.' }]); return; }
    window.location.hash = `#/staf/kinerja?period=${p}`;
  });
  csvButton.addEventListener('click', async () => {
    const p = val(form, 'period') || period;
    csvButton.disabled = true;
    status.textContent = 'Menyiapkan CSV…';
    try {
      const blob = await api('/staff/performance', { staff: true, query: { period: p, format: 'csv' }, accept: 'blob' });
      downloadBlob(blob, `kinerja-opd-${p}.csv`);
      status.textContent = `CSV kinerja ${fmtMonth(p)} diunduh.`;
    } catch (err) {
      status.textContent = `CSV gagal diunduh. ${err.text || ''}`;
    } finally {
      csvButton.disabled = false;
    }
  });
  view.append(
    h('p', {}, 'Rekap bulanan tanggapan setiap OPD. Angka ini menjadi dasar evaluasi, dan setiap angka dapat ditelusuri ke laporan di baliknya.'),
    form, status, h('h2', {}, `Periode ${fmtMonth(period)}`), result);

  result.append(h('p', {}, 'Memuat…'));
  try {
    const data = await api('/staff/performance', { staff: true, query: { period } });
    const items = Array.isArray(data && data.items) ? data.items : [];
    clear(result);
    if (!items.length) {
      result.append(h('p', {}, 'Belum ada data untuk periode ini.'));
      return;
    }
    const columns = PERF_COLUMNS.filter((c) => c.key === 'opd_name' || items.some((r) => c.key in r));
    const rows = items.map((r) => ({ label: r.opd_name || r.opd_code, value: pct(r) }));
    result.append(
      h('h3', { id: 'chart-h' }, 'Persentase tanggapan tepat waktu'),
      barChart(rows, { title: 'Persentase tanggapan tepat waktu per OPD', max: 100, unit: '%', digits: 1 }),
      table({ caption: `Kinerja OPD ${fmtMonth(period)}`, columns, rows: items, rowAttrs: (r) => ({ 'data-opd': r.opd_code }) }),
      h('p', { class: 'hint' }, 'Tepat waktu: tanggapan pertama dalam batas hari kerja yang berlaku. '
        + 'Terbuka lewat tenggat: laporan yang masih terbuka dan sudah melewati batas waktu.'));
    result.append(await channelTable(period));
  } catch (err) {
    clear(result);
    result.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', {},
      err instanceof ApiError ? err.text : 'Data kinerja gagal dimuat.')));
  }
}
