// Kinerja OPD: the monthly scoreboard from GET /staff/performance (admin, pimpinan; an OPD sees
// its own row), as a table whose every figure links to the reports behind it, a bar chart, a CSV
// download, Diskominfotik's own verification time, and the closing of the month: whether it is
// provisional or final, the OPDs' objections (POST /staff/months/{period}/objections), the
// admin's decisions and the finalisation.
import { h, clear, thisMonthWib, fmtMonth, fmtDateTime, fmtNumber, downloadBlob } from '../dom.js';
import { api, ApiError } from '../api.js';
import { field, val, showErrors, showApiError, clearErrors } from '../forms.js';
import { barChart, table } from '../chart.js';
import { session } from '../auth.js';
import { channelLabel } from '../labels.js';

export const title = 'Kinerja OPD';

const OPD_ROLES = ['opd', 'opd_admin'];
const READERS = ['admin', 'pimpinan', ...OPD_ROLES];

export const FIGURE_LABELS = {
  received: 'Diterima',
  responded: 'Ditanggapi',
  responded_on_time: 'Tepat waktu',
  late: 'Terlambat',
  pending: 'Menunggu',
  withdrawn: 'Ditarik',
  overdue_open: 'Terbuka lewat tenggat',
  returned: 'Dikembalikan',
  breaches: 'Pelanggaran SLA',
  rated: 'Dinilai',
};
// The figures that count against an OPD: the ones it may object to.
export const OBJECTABLE = ['late', 'breaches', 'overdue_open'];
const OUTCOME = { on_time: 'Tepat waktu', late: 'Terlambat', pending: 'Menunggu', withdrawn: 'Ditarik' };
const OBJECTION_STATUS = { undecided: 'Belum diputuskan', accepted: 'Diterima', rejected: 'Ditolak' };
const STATUS_TEXT = {
  provisional: 'Sementara: angka masih dapat berubah (keberatan OPD dan peristiwa baru).',
  final: 'Final: angka bulan ini tidak berubah lagi; peristiwa yang terlambat dicatat sebagai koreksi bulan berikutnya.',
};

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

export function drillHref(period, opd, figure) {
  return `#/staf/kinerja?period=${period}&opd=${encodeURIComponent(opd)}&figure=${figure}`;
}

/** A figure's cell: the count, linked to the reports behind it. */
function figureCell(period, figure) {
  return (r) => {
    const n = r[figure];
    if (n === undefined || n === null) return null;
    return h('a', { href: drillHref(period, r.opd_code, figure), 'data-figure': figure,
      'aria-label': `${FIGURE_LABELS[figure]} ${r.opd_name || r.opd_code}: ${fmtNumber(n)}, lihat laporannya` }, fmtNumber(n));
  };
}

export function perfColumns(period) {
  const fig = (key) => ({ key, label: FIGURE_LABELS[key], num: true, get: figureCell(period, key) });
  return [
    { key: 'opd_name', label: 'OPD', get: (r) => r.opd_name || r.opd_code },
    fig('received'), fig('responded'), fig('responded_on_time'),
    { key: 'on_time_pct', label: '% tepat waktu', num: true, digits: 1, get: pct },
    fig('late'), fig('pending'), fig('breaches'),
    { key: 'median_first_response_hours', label: 'Median tanggapan pertama (jam)', num: true, digits: 1 },
    fig('overdue_open'), fig('returned'),
    { key: 'avg_rating', label: 'Rata-rata nilai (1–5)', num: true, digits: 2 },
  ];
}
// The same columns without links (the public statistics page has no drill-down).
export const PERF_COLUMNS = perfColumns('').map((c) => (['opd_name', 'on_time_pct'].includes(c.key) ? c : { ...c, get: undefined }));

function statusBlock(data) {
  const status = data.status === 'final' ? 'final' : 'provisional';
  const w = data.objection_window || {};
  const windowText = {
    open: `Masa keberatan OPD terbuka sampai ${fmtDateTime(w.closes)}.`,
    closed: `Masa keberatan OPD berakhir ${fmtDateTime(w.closes)}.`,
    not_open: 'Masa keberatan belum dibuka.',
  }[w.state] || '';
  const o = data.objections || {};
  return h('div', { class: `msg ${status === 'final' ? 'msg-info' : 'msg-warn'}`, id: 'status-bulan', 'data-status': status },
    h('p', { class: 'msg-title' }, `Status: ${status === 'final' ? 'Final' : 'Sementara'}`),
    h('p', {}, STATUS_TEXT[status]),
    data.finalised_at ? h('p', {}, `Difinalkan ${fmtDateTime(data.finalised_at)}.`) : null,
    status === 'provisional' ? h('p', {}, windowText) : null,
    h('p', {}, `Keberatan: ${o.undecided || 0} belum diputuskan, ${o.accepted || 0} diterima, ${o.rejected || 0} ditolak.`));
}

function verificationBlock(v) {
  if (!v) return null;
  const item = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  return h('section', { 'aria-labelledby': 'verifikasi-h', class: 'card', id: 'verifikasi' },
    h('h3', { id: 'verifikasi-h' }, 'Verifikasi Diskominfotik (batas 3 hari kerja)'),
    h('p', { class: 'hint' }, 'Waktu meja pengaduan memverifikasi dan meneruskan laporan; bukan baris OPD.'),
    h('dl', {},
      item('Diteruskan', fmtNumber(v.forwarded)),
      item('Tepat waktu', fmtNumber(v.on_time)),
      item('Terlambat', fmtNumber(v.late)),
      item('% tepat waktu', v.on_time_pct === null ? '–' : `${fmtNumber(v.on_time_pct, 1)}%`),
      item('Pelanggaran SLA', fmtNumber(v.breaches)),
      item('Median (jam kerja)', fmtNumber(v.median_working_hours, 1))));
}

function correctionsBlock(list) {
  if (!Array.isArray(list) || !list.length) return null;
  const changes = (c) => Object.entries(c.changes || {})
    .map(([f, d]) => `${FIGURE_LABELS[f] || f} ${d > 0 ? '+' : ''}${d}`).join(', ');
  return h('section', { 'aria-labelledby': 'koreksi-h' },
    h('h3', { id: 'koreksi-h' }, 'Koreksi atas bulan yang sudah final'),
    table({ caption: 'Peristiwa terlambat yang mengubah angka bulan final', rows: list, columns: [
      { key: 'tracking_id', label: 'Nomor laporan', get: (c) => h('a', { href: `#/staf/laporan/${c.tracking_id}` }, c.tracking_id) },
      { key: 'final_month', label: 'Bulan final', get: (c) => fmtMonth(c.final_month) },
      { key: 'opd_name', label: 'OPD', get: (c) => c.opd_name || c.opd_code },
      { key: 'changes', label: 'Perubahan', get: changes },
    ] }));
}

async function drillDown(period, opd, figure, s, objectionForm) {
  const box = h('section', { 'aria-labelledby': 'rincian-h', id: 'rincian' });
  box.append(h('h3', { id: 'rincian-h' }, `${FIGURE_LABELS[figure]}: ${opd}`), h('p', {}, 'Memuat…'));
  try {
    const d = await api(`/staff/performance/${encodeURIComponent(opd)}/reports`, { staff: true, query: { period, figure } });
    clear(box);
    box.append(h('h3', { id: 'rincian-h' }, `${FIGURE_LABELS[figure]}: ${d.opd_name} (${fmtNumber(d.count)} laporan)`));
    if (!d.items.length) {
      box.append(h('p', {}, 'Tidak ada laporan di balik angka ini.'));
      return box;
    }
    const mayObject = objectionForm && OBJECTABLE.includes(figure);
    const columns = [
      { key: 'tracking_id', label: 'Nomor laporan',
        get: (r) => (r.tracking_id ? h('a', { href: `#/staf/laporan/${r.tracking_id}` }, r.tracking_id) : 'Dirahasiakan') },
      { key: 'disposed_at', label: 'Diteruskan', get: (r) => fmtDateTime(r.disposed_at) },
      { key: 'response_due_at', label: 'Batas tanggapan', get: (r) => fmtDateTime(r.response_due_at) },
      { key: 'first_response_at', label: 'Tanggapan pertama', get: (r) => fmtDateTime(r.first_response_at) },
      { key: 'outcome', label: 'Hasil', get: (r) => OUTCOME[r.outcome] || r.outcome },
      { key: 'waived', label: 'Dibebaskan', get: (r) => (r.waived || []).map((f) => FIGURE_LABELS[f] || f).join(', ') || '–' },
    ];
    if (mayObject) {
      columns.push({ key: 'object', label: 'Keberatan', get: (r) => (r.tracking_id ? h('button', {
        type: 'button', class: 'btn btn-secondary', onclick: () => objectionForm.prefill(r.tracking_id, figure),
      }, 'Ajukan keberatan') : '–') });
    }
    box.append(table({ caption: `Laporan di balik angka ${FIGURE_LABELS[figure]} ${fmtMonth(period)}`, columns, rows: d.items }));
  } catch (err) {
    clear(box);
    box.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', {},
      err instanceof ApiError ? err.text : 'Rincian gagal dimuat.')));
  }
  return box;
}

function makeObjectionForm(period, onDone) {
  const figure = h('select', {}, OBJECTABLE.map((f) => h('option', { value: f }, FIGURE_LABELS[f])));
  const done = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { novalidate: true, class: 'card', id: 'form-keberatan' },
    h('h3', {}, 'Ajukan keberatan'),
    h('p', { class: 'hint' }, 'Untuk satu angka pada satu laporan OPD Anda, paling lambat hari kerja ke-5 setelah akhir bulan.'),
    field({ label: 'Nomor laporan', name: 'tracking_id', required: true }),
    field({ label: 'Angka yang dikeberatkan', name: 'figure', type: 'select', control: figure }),
    field({ label: 'Alasan', name: 'reason', type: 'textarea', required: true, attrs: { maxlength: 1000, rows: 3 } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Kirim keberatan')), done);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = { tracking_id: val(form, 'tracking_id').trim(), figure: val(form, 'figure'), reason: val(form, 'reason').trim() };
    const missing = [];
    if (!body.tracking_id) missing.push({ field: 'tracking_id', message: 'Isi nomor laporan.' });
    if (!body.reason) missing.push({ field: 'reason', message: 'Tuliskan alasan keberatan.' });
    if (missing.length) { showErrors(form, missing); return; }
    try {
      await api(`/staff/months/${period}/objections`, { staff: true, method: 'POST', body });
      form.reset();
      done.textContent = 'Keberatan terkirim dan menunggu keputusan Diskominfotik.';
      await onDone();
    } catch (err) {
      showApiError(form, err);
    }
  });
  form.prefill = (tid, fig) => {
    form.elements.tracking_id.value = tid;
    form.elements.figure.value = fig;
    form.elements.reason.focus();
  };
  return form;
}

async function objectionList(period, s, onChange) {
  const box = h('section', { 'aria-labelledby': 'keberatan-h', id: 'keberatan' }, h('h3', { id: 'keberatan-h' }, 'Keberatan OPD'));
  try {
    const d = await api(`/staff/months/${period}/objections`, { staff: true });
    if (!d.items.length) {
      box.append(h('p', {}, 'Belum ada keberatan untuk bulan ini.'));
      return box;
    }
    const decide = (o, decision, note) => async (e) => {
      e.target.disabled = true;
      try {
        await api(`/staff/months/${period}/objections/${o.id}`, { staff: true, method: 'PUT',
          body: { decision, note: note.value.trim() || null } });
        await onChange(`Keberatan atas ${o.tracking_id} ${decision === 'accepted' ? 'diterima' : 'ditolak'}.`);
      } catch (err) {
        e.target.disabled = false;
        await onChange(err instanceof ApiError ? err.text : 'Keputusan gagal disimpan.');
      }
    };
    const columns = [
      { key: 'tracking_id', label: 'Nomor laporan', get: (o) => h('a', { href: `#/staf/laporan/${o.tracking_id}` }, o.tracking_id) },
      { key: 'opd_code', label: 'OPD' },
      { key: 'figure', label: 'Angka', get: (o) => FIGURE_LABELS[o.figure] || o.figure },
      { key: 'reason', label: 'Alasan' },
      { key: 'status', label: 'Status', get: (o) => OBJECTION_STATUS[o.status] || o.status },
      { key: 'decision_note', label: 'Catatan keputusan' },
    ];
    if (s.role === 'admin' && d.status !== 'final') {
      columns.push({ key: 'decide', label: 'Keputusan', get: (o) => {
        if (o.status !== 'undecided') return '–';
        const note = h('input', { type: 'text', 'aria-label': `Catatan keputusan ${o.tracking_id}`, maxlength: 1000, placeholder: 'Catatan (opsional)' });
        return h('div', { class: 'actions' }, note,
          h('button', { type: 'button', class: 'btn', onclick: decide(o, 'accepted', note) }, 'Terima'),
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: decide(o, 'rejected', note) }, 'Tolak'));
      } });
    }
    box.append(table({ caption: `Keberatan ${fmtMonth(period)}`, columns, rows: d.items,
      rowAttrs: (o) => ({ 'data-objection': o.id }) }));
  } catch (err) {
    box.append(h('p', { class: 'hint' }, err instanceof ApiError ? err.text : 'Daftar keberatan gagal dimuat.'));
  }
  return box;
}

export async function render(view, { query }) {
  const s = session();
  view.append(h('h1', {}, 'Kinerja OPD'));
  if (!s || !READERS.includes(s.role)) {
    view.append(h('div', { class: 'msg msg-warn' }, h('p', {}, 'Halaman ini untuk admin Diskominfotik, pimpinan dan petugas OPD.')));
    return;
  }
  const isOpd = OPD_ROLES.includes(s.role);
  const period = /^\d{4}-\d{2}$/.test(query.get('period') || '') ? query.get('period') : thisMonthWib();
  const drillOpd = query.get('opd');
  const drillFigure = FIGURE_LABELS[query.get('figure')] ? query.get('figure') : null;
  const status = h('div', { role: 'status', 'aria-live': 'polite', id: 'kinerja-status' });
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
    h('p', {}, isOpd
      ? 'Rekap bulanan tanggapan OPD Anda. Setiap angka dapat ditelusuri ke laporan di baliknya, dan angka yang memberatkan dapat diajukan keberatan.'
      : 'Rekap bulanan tanggapan setiap OPD. Angka ini menjadi dasar evaluasi, dan setiap angka dapat ditelusuri ke laporan di baliknya.'),
    form, status, h('h2', {}, `Periode ${fmtMonth(period)}`), result);

  async function load(note) {
    clear(result);
    if (note) status.textContent = note;
    result.append(h('p', {}, 'Memuat…'));
    try {
      const data = await api('/staff/performance', { staff: true, query: { period } });
      const items = Array.isArray(data && data.items) ? data.items : [];
      clear(result);
      result.append(statusBlock(data));
      const provisional = data.status !== 'final';
      if (s.role === 'admin' && provisional) {
        const finalise = h('button', { type: 'button', class: 'btn', id: 'finalkan' }, 'Finalkan bulan ini');
        finalise.addEventListener('click', async () => {
          finalise.disabled = true;
          try {
            await api(`/staff/months/${period}/finalise`, { staff: true, method: 'POST' });
            await load(`Rekap ${fmtMonth(period)} sudah final.`);
          } catch (err) {
            finalise.disabled = false;
            status.textContent = err instanceof ApiError ? err.text : 'Bulan gagal difinalkan.';
          }
        });
        result.append(h('div', { class: 'actions' }, finalise));
      }
      const objectionForm = isOpd && provisional && data.objection_window && data.objection_window.state === 'open'
        ? makeObjectionForm(period, () => load('Keberatan terkirim dan menunggu keputusan Diskominfotik.')) : null;
      if (!items.length) {
        result.append(h('p', {}, 'Belum ada data untuk periode ini.'));
      } else {
        const columns = perfColumns(period).filter((c) => c.key === 'opd_name' || items.some((r) => c.key in r));
        const rows = items.map((r) => ({ label: r.opd_name || r.opd_code, value: pct(r) }));
        result.append(
          h('h3', { id: 'chart-h' }, 'Persentase tanggapan tepat waktu'),
          barChart(rows, { title: 'Persentase tanggapan tepat waktu per OPD', max: 100, unit: '%', digits: 1 }),
          table({ caption: `Kinerja OPD ${fmtMonth(period)}`, columns, rows: items, rowAttrs: (r) => ({ 'data-opd': r.opd_code }) }),
          h('p', { class: 'hint' }, 'Tepat waktu: tanggapan pertama dalam batas hari kerja yang berlaku. Terlambat: batas itu terlewati. '
            + 'Menunggu: belum ditanggapi, batas belum lewat. Terbuka lewat tenggat: laporan yang masih terbuka dan sudah melewati batas waktu. '
            + 'Pilih angka untuk melihat laporannya.'));
      }
      if (drillOpd && drillFigure) result.append(await drillDown(period, drillOpd, drillFigure, s, objectionForm));
      if (objectionForm) result.append(objectionForm);
      if (s.role === 'admin' || isOpd) result.append(await objectionList(period, s, load));
      result.append(correctionsBlock(data.corrections) || '', verificationBlock(data.verification) || '');
      if (!isOpd) result.append(await channelTable(period));
    } catch (err) {
      clear(result);
      result.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', {},
        err instanceof ApiError ? err.text : 'Data kinerja gagal dimuat.')));
    }
  }
  await load();
}
