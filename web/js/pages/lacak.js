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
    field({ label: 'Kode akses', name: 'access_token', required: true, control: tokenInput, hint: 'Kode 16 huruf/angka (XXXX-XXXX-XXXX-XXXX) yang ditampilkan saat laporan dikirim dan dikirim ke HP/email Anda. Huruf kecil dan spasi tidak apa-apa.' }),
    h('div', { class: 'choice choice-narrow' }, show, h('label', { for: 'show-token' }, 'Tampilkan kode')),
    h('div', { class: 'actions' }, submit));

  view.append(
    h('h1', {}, 'Lacak laporan'),
    h('p', {}, 'Masukkan nomor laporan dan kode akses untuk melihat status, perkiraan waktu, dan riwayat tanggapan.'),
    form,
    recoverySection((creds, opts) => load(creds, opts), () => val(form, 'tracking_id')),
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
        showErrors(form, [{ field: 'access_token', message: 'Nomor laporan atau kode akses tidak cocok. Periksa kembali, atau pilih "Lupa kode akses?".' }],
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

/**
 * "Lupa kode akses?": the tracking number and the phone or email given in the report, then the
 * 6-digit code sent there; the answer gives a new access code, which opens the report at once.
 */
function recoverySection(open, typedId) {
  const body = h('div', { id: 'pulih', hidden: true });
  const toggle = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-expanded': 'false', 'aria-controls': 'pulih' }, 'Lupa kode akses?');
  toggle.addEventListener('click', () => {
    const opening = body.hidden;
    body.hidden = !opening;
    toggle.setAttribute('aria-expanded', String(opening));
    if (opening) {
      clear(body);
      body.append(askForm());
      const id = body.querySelector('input[name="recovery_tracking_id"]');
      if (id && !id.value) id.value = typedId() || '';
      body.querySelector('h2').focus();
    }
  });

  function askForm() {
    const send = h('button', { type: 'submit', class: 'btn' }, 'Kirim kode pemulihan');
    const f = h('form', { novalidate: true, 'aria-labelledby': 'pulih-h' },
      h('h2', { id: 'pulih-h', tabindex: '-1' }, 'Lupa kode akses'),
      h('p', {}, 'Masukkan nomor laporan dan nomor HP atau email yang Anda cantumkan di laporan. Bila cocok, kami kirim kode pemulihan 6 angka ke sana (berlaku 15 menit).'),
      field({ label: 'Nomor laporan', name: 'recovery_tracking_id', required: true, control: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' }) }),
      field({ label: 'Nomor HP atau email di laporan', name: 'contact', required: true, control: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', inputmode: 'email' }), hint: 'Contoh: 0812-3456-7890 atau nama@contoh.id' }),
      h('div', { class: 'actions' }, send));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const tid = val(f, 'recovery_tracking_id');
      const contact = val(f, 'contact');
      const d = [];
      if (!tid) d.push({ field: 'recovery_tracking_id', message: 'Isi nomor laporan.' });
      if (!contact) d.push({ field: 'contact', message: 'Isi nomor HP atau email.' });
      if (d.length) { showErrors(f, d); return; }
      send.disabled = true;
      try {
        const r = await api(`/reports/${encodeURIComponent(tid)}/access-recovery`, { method: 'POST', body: { contact } });
        clear(body);
        body.append(confirmForm(tid, r && r.message));
        body.querySelector('input[name="code"]').focus();
      } catch (err) {
        showApiError(f, err);
        send.disabled = false;
      }
    });
    return f;
  }

  function confirmForm(tid, message) {
    const go = h('button', { type: 'submit', class: 'btn' }, 'Buat kode akses baru');
    const f = h('form', { novalidate: true, 'aria-labelledby': 'pulih-kode-h' },
      h('h2', { id: 'pulih-kode-h' }, 'Masukkan kode pemulihan'),
      h('div', { class: 'msg msg-ok', role: 'status' }, h('p', {}, message || 'Bila kontak cocok, kode pemulihan telah dikirim.')),
      field({ label: 'Kode pemulihan (6 angka)', name: 'code', required: true, control: h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 12, spellcheck: 'false' }) }),
      h('div', { class: 'actions' }, go,
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { clear(body); body.append(askForm()); } }, 'Minta kode lagi')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const code = val(f, 'code').replace(/\s+/g, '');
      if (!/^\d{6}$/.test(code)) { showErrors(f, [{ field: 'code', message: 'Isi 6 angka dari SMS/email.' }]); return; }
      go.disabled = true;
      try {
        const r = await api(`/reports/${encodeURIComponent(tid)}/access-recovery/confirm`, { method: 'POST', body: { code } });
        clear(body);
        body.append(h('section', { class: 'card', 'aria-labelledby': 'kode-baru-h' },
          h('h2', { id: 'kode-baru-h', tabindex: '-1' }, 'Kode akses baru'),
          h('p', { class: 'mono code-big', id: 'kode-baru' }, r.access_token),
          h('div', { class: 'msg msg-warn', role: 'alert' },
            h('p', {}, 'Catat kode ini sekarang. Kode juga telah dikirim ke nomor HP/email Anda. Kode akses lama tidak berlaku lagi.'))));
        body.querySelector('h2').focus();
        await open({ tracking_id: tid, access_token: r.access_token }, { focusResult: false });
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) {
          showErrors(f, [{ field: 'code', message: err.message || 'Kode pemulihan salah atau kedaluwarsa.' }], { title: 'Kode tidak diterima' });
        } else {
          showApiError(f, err);
        }
        go.disabled = false;
      }
    });
    return f;
  }

  return h('div', { class: 'recovery' }, h('p', {}, toggle), body);
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
        r.planned_completion ? [h('dt', {}, 'Rencana selesai (menurut OPD)'),
          h('dd', { 'data-testid': 'rencana-selesai' }, fmtDate(r.planned_completion))] : null,
        r.incident_date ? [h('dt', {}, 'Tanggal kejadian'), h('dd', {}, fmtDate(r.incident_date))] : null),
      r.description ? [h('h3', {}, 'Uraian'), h('p', { class: 'pre' }, r.description)] : null),
    attachmentsSection(r, creds),
    h('section', { 'aria-labelledby': 'tl-h' },
      h('h2', { id: 'tl-h' }, 'Riwayat'),
      timeline.length
        ? h('ol', { class: 'timeline' }, timeline.map((t) => h('li', t.action === 'progress' ? { class: 'progress-update' } : {},
          h('div', { class: 'when' }, fmtDateTime(t.at)),
          h('div', {}, h('span', { class: 'who' }, actorLabel(t.actor)),
            // A progress update leaves the status as it was: say what it is instead.
            t.action === 'progress' ? ' · Perkembangan' : (t.status ? ` · ${statusLabel(t.status)}` : '')),
          t.message ? h('p', { class: 'pre' }, t.message) : null,
          t.planned_completion ? h('p', { class: 'hint' }, `Rencana selesai: ${fmtDate(t.planned_completion)}`) : null,
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
        ? 'Jawab permintaan petugas. Setelah dikirim, laporan kembali kepada petugas yang meminta.'
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
      await reload(creds, { notice: isInfo ? 'Kelengkapan terkirim. Laporan kembali kepada petugas yang meminta.' : 'Balasan terkirim. Laporan dibuka kembali.' });
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
