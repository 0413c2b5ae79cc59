// Lacak: the reporter's view of a report (tracking number + access token), with reply and
// feedback. The token stays in memory only.
import { h, append, clear, fmtDateTime, fmtDate } from '../dom.js';
import { api, refName, ApiError } from '../api.js';
import { field, radioGroup, radioValue, val, showErrors, showApiError, clearErrors, attachmentPicker } from '../forms.js';
import { STATUS, statusBadge, typeLabel, privacyLabel, actorLabel, statusLabel } from '../labels.js';
import { memory } from '../store.js';
import { rememberStatus, savedStatuses } from '../device.js';

export const title = 'Lacak laporan';

export async function render(view) {
  const idInput = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' });
  const tokenInput = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const show = h('input', { type: 'checkbox', id: 'show-token' });
  show.addEventListener('change', () => { tokenInput.type = show.checked ? 'text' : 'password'; });
  const submit = h('button', { type: 'submit', class: 'btn' }, 'Lihat laporan');
  const result = h('div', { id: 'lacak-result' });

  const form = h('form', { novalidate: true, 'aria-labelledby': 'lacak-form-h' },
    h('h2', { id: 'lacak-form-h', class: 'visually-hidden' }, 'Masukkan data laporan'),
    field({ label: 'Nomor laporan', name: 'tracking_id', required: true, control: idInput }),
    field({ label: 'Kode akses', name: 'access_token', required: true, control: tokenInput, hint: 'Kode yang ditampilkan satu kali saat laporan dikirim.' }),
    h('div', { class: 'choice choice-narrow' }, show, h('label', { for: 'show-token' }, 'Tampilkan kode')),
    h('div', { class: 'actions' }, submit));

  view.append(
    h('h1', {}, 'Lacak laporan'),
    h('p', {}, 'Masukkan nomor laporan dan kode akses untuk melihat status, perkiraan waktu, dan riwayat tanggapan.'),
    form,
    result,
    lastSeen());

  async function load(creds, { focusResult = true, notice } = {}) {
    submit.disabled = true;
    clear(result);
    result.append(h('p', { role: 'status' }, 'Memuat laporan…'));
    try {
      const r = await api(`/reports/${encodeURIComponent(creds.tracking_id)}`, { accessToken: creds.access_token });
      memory.tracking = creds;
      rememberStatus(r.tracking_id || creds.tracking_id, r.status);
      clearErrors(form);
      await showReport(result, r, creds, notice, load);
      if (focusResult) {
        const h2 = result.querySelector('h2');
        if (h2) { h2.setAttribute('tabindex', '-1'); h2.focus(); }
      }
    } catch (err) {
      clear(result);
      if (err instanceof ApiError && err.code === 'network' && navigator.onLine === false) {
        showApiError(form, err, 'Tanpa sinyal, halaman ini hanya menampilkan status terakhir yang pernah dilihat di perangkat ini (di bawah).');
      } else if (err instanceof ApiError && err.status === 404) {
        showErrors(form, [{ field: 'access_token', message: 'Nomor laporan atau kode akses tidak cocok. Periksa kembali, termasuk huruf besar/kecil.' }],
          { title: 'Laporan tidak ditemukan' });
      } else {
        showApiError(form, err);
      }
    } finally {
      submit.disabled = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const creds = { tracking_id: val(form, 'tracking_id'), access_token: val(form, 'access_token') };
    const d = [];
    if (!creds.tracking_id) d.push({ field: 'tracking_id', message: 'Isi nomor laporan.' });
    if (!creds.access_token) d.push({ field: 'access_token', message: 'Isi kode akses.' });
    if (d.length) { showErrors(form, d); return; }
    load(creds);
  });

  if (memory.tracking) {
    idInput.value = memory.tracking.tracking_id;
    tokenInput.value = memory.tracking.access_token;
    await load(memory.tracking, { focusResult: false });
  }
}

/** The last status seen on this device for each report tracked here: status and time only. */
function lastSeen() {
  const items = savedStatuses();
  if (!items.length) return null;
  return h('section', { 'aria-labelledby': 'seen-h', class: 'last-seen' },
    h('h2', { id: 'seen-h' }, 'Terakhir dilihat di perangkat ini'),
    h('p', { class: 'hint' }, 'Hanya nomor, status, dan waktu yang disimpan; isi laporan dan kode akses tidak. Hapus lewat Beranda, "Hapus data di perangkat ini".'),
    h('ul', {}, items.map((x) => h('li', {}, h('span', { class: 'mono' }, x.tracking_id), ' · ', statusLabel(x.status),
      ' · dilihat ', fmtDateTime(x.seen_at)))));
}

/** The report's files (the reporter's photos and the OPD's documents): a 5-minute link each. */
function attachmentsSection(r, creds) {
  const steps = (Array.isArray(r.timeline) ? r.timeline : []).flatMap((t) => (Array.isArray(t.attachments) ? t.attachments : []));
  const ids = [...new Set([].concat(Array.isArray(r.attachments) ? r.attachments : [], steps)
    .map((a) => (a && typeof a === 'object' ? a.attachment_id || a.id : a)).filter(Boolean))];
  if (!ids.length) return null;
  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'hint' });
  return h('section', { 'aria-labelledby': 'att-h' },
    h('h2', { id: 'att-h' }, 'Lampiran'),
    h('ul', { class: 'file-list' }, ids.map((id, i) => h('li', {},
      h('span', { class: 'file-name' }, `Lampiran ${i + 1}`),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Buka lampiran ${i + 1}`,
        onclick: async () => {
          status.textContent = 'Membuka lampiran…';
          try {
            const link = await api(`/reports/${encodeURIComponent(creds.tracking_id)}/attachments/${encodeURIComponent(id)}`, { accessToken: creds.access_token });
            status.textContent = '';
            window.open(link.url, '_blank', 'noopener');
          } catch (err) {
            status.textContent = err instanceof ApiError && err.status === 404
              ? 'Lampiran ini masih diperiksa keamanannya. Coba lagi sebentar lagi.'
              : (err.text || 'Lampiran gagal dibuka.');
          }
        },
      }, 'Buka')))),
    status);
}

async function showReport(container, r, creds, notice, reload) {
  clear(container);
  const opd = r.opd && typeof r.opd === 'object' ? r.opd.name || r.opd.code
    : r.opd_name || r.opd || (r.opd_code ? await refName('opds', r.opd_code) : '');
  const status = STATUS[r.status];
  const timeline = Array.isArray(r.timeline) ? r.timeline : [];
  append(container, [
    notice ? h('div', { class: 'msg msg-ok', role: 'status' }, h('p', {}, notice)) : null,
    h('section', { class: 'card', 'aria-labelledby': 'rep-title' },
      h('h2', { id: 'rep-title' }, r.title || `Laporan ${creds.tracking_id}`),
      h('p', {}, statusBadge(r.status)),
      status ? h('p', {}, status.desc) : null,
      h('dl', { class: 'props' },
        h('dt', {}, 'Nomor laporan'), h('dd', { class: 'mono' }, r.tracking_id || creds.tracking_id),
        h('dt', {}, 'Jenis'), h('dd', {}, typeLabel(r.type)),
        h('dt', {}, 'Kerahasiaan'), h('dd', {}, privacyLabel(r.privacy)),
        h('dt', {}, 'Ditangani oleh'), h('dd', {}, opd || 'Belum diteruskan ke OPD'),
        r.created_at ? [h('dt', {}, 'Dikirim'), h('dd', {}, fmtDateTime(r.created_at))] : null,
        h('dt', {}, r.status === 'ditindaklanjuti' ? 'Ditutup otomatis (bila tak dibalas) pada' : 'Perkiraan batas waktu tahap ini'),
        h('dd', {}, ['selesai', 'ditolak'].includes(r.status) ? '–' : fmtDateTime(r.due_at)),
        r.incident_date ? [h('dt', {}, 'Tanggal kejadian'), h('dd', {}, fmtDate(r.incident_date))] : null),
      r.description ? [h('h3', {}, 'Uraian'), h('p', { class: 'pre' }, r.description)] : null),
    attachmentsSection(r, creds),
    h('section', { 'aria-labelledby': 'tl-h' },
      h('h2', { id: 'tl-h' }, 'Riwayat'),
      timeline.length
        ? h('ol', { class: 'timeline' }, timeline.map((t) => h('li', {},
          h('div', { class: 'when' }, fmtDateTime(t.at)),
          h('div', {}, h('span', { class: 'who' }, actorLabel(t.actor)), t.status ? ` · ${statusLabel(t.status)}` : ''),
          t.message ? h('p', { class: 'pre' }, t.message) : null,
          Array.isArray(t.attachments) && t.attachments.length
            ? h('p', { class: 'hint' }, `${t.attachments.length} lampiran (lihat bagian Lampiran)`) : null)))
        : h('p', {}, 'Belum ada riwayat.')),
  ]);

  if (r.status === 'ditindaklanjuti') container.append(feedbackForm(creds, reload));
  if (r.status === 'perlu_kelengkapan' || r.status === 'ditindaklanjuti') container.append(replyForm(r.status, creds, reload));
}

function replyForm(status, creds, reload) {
  const isInfo = status === 'perlu_kelengkapan';
  const submit = h('button', { type: 'submit', class: 'btn' }, isInfo ? 'Kirim kelengkapan' : 'Kirim balasan');
  const files = attachmentPicker({ name: 'attachments', label: 'Lampiran (dokumen atau foto yang diminta)' });
  const form = h('form', { novalidate: true },
    field({
      label: isInfo ? 'Keterangan tambahan' : 'Balasan Anda', name: 'message', type: 'textarea', required: true,
      hint: isInfo
        ? 'Jawab permintaan admin. Setelah dikirim, laporan kembali diverifikasi.'
        : 'Bila tanggapan OPD belum menyelesaikan masalah, jelaskan di sini. Laporan akan dibuka kembali.',
      attrs: { rows: 4, maxlength: 4000 },
    }),
    files.element,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const message = val(form, 'message');
    if (message.length < 1) { showErrors(form, [{ field: 'message', message: 'Tulis pesan Anda.' }]); return; }
    submit.disabled = true;
    try {
      const body = { message };
      const ids = await files.ids();
      if (ids.length) body.attachments = ids;
      await api(`/reports/${encodeURIComponent(creds.tracking_id)}/replies`, { method: 'POST', body, accessToken: creds.access_token });
      await reload(creds, { notice: isInfo ? 'Kelengkapan terkirim. Laporan kembali diverifikasi.' : 'Balasan terkirim. Laporan dibuka kembali.' });
    } catch (err) {
      showApiError(form, err);
      submit.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'reply-h' },
    h('h2', { id: 'reply-h' }, isInfo ? 'Lengkapi laporan' : 'Balas tanggapan'), form);
}

function feedbackForm(creds, reload) {
  const submit = h('button', { type: 'submit', class: 'btn' }, 'Kirim penilaian');
  const form = h('form', { novalidate: true },
    radioGroup({
      legend: 'Apakah masalah Anda sudah selesai?', name: 'resolved', required: true, inline: true,
      options: [
        { value: 'true', label: 'Ya, sudah selesai', desc: 'Laporan akan ditutup.' },
        { value: 'false', label: 'Belum selesai', desc: 'Laporan akan dibuka kembali untuk OPD.' },
      ],
    }),
    radioGroup({
      legend: 'Nilai pelayanan', name: 'rating', required: true, inline: true,
      options: [
        { value: '1', label: '1', desc: 'Sangat buruk' }, { value: '2', label: '2', desc: 'Buruk' },
        { value: '3', label: '3', desc: 'Cukup' }, { value: '4', label: '4', desc: 'Baik' },
        { value: '5', label: '5', desc: 'Sangat baik' },
      ],
    }),
    field({ label: 'Komentar', name: 'comment', type: 'textarea', optional: true, attrs: { rows: 3, maxlength: 2000 } }),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const resolved = radioValue(form, 'resolved');
    const rating = radioValue(form, 'rating');
    const d = [];
    if (!resolved) d.push({ field: 'resolved', message: 'Pilih apakah masalah sudah selesai.' });
    if (!rating) d.push({ field: 'rating', message: 'Pilih nilai 1 sampai 5.' });
    if (d.length) { showErrors(form, d); return; }
    const body = { resolved: resolved === 'true', rating: Number(rating) };
    const comment = val(form, 'comment');
    if (comment) body.comment = comment;
    submit.disabled = true;
    try {
      await api(`/reports/${encodeURIComponent(creds.tracking_id)}/feedback`, { method: 'POST', body, accessToken: creds.access_token });
      await reload(creds, { notice: body.resolved ? 'Terima kasih. Laporan ditutup sebagai selesai.' : 'Terima kasih. Laporan dibuka kembali untuk ditindaklanjuti.' });
    } catch (err) {
      showApiError(form, err);
      submit.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'fb-h' },
    h('h2', { id: 'fb-h' }, 'Beri penilaian'), form);
}
