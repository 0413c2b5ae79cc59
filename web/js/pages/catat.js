// Catat laporan (admin): a complaint that reached Diskominfotik's desk in person, by telephone,
// letter or social media, entered for the citizen (POST /staff/reports). The citizen gets the
// tracking number and access code from the officer (and by SMS/email when a contact is given).
import { h, clear, randomId } from '../dom.js';
import { api, reference, ApiError } from '../api.js';
import { session } from '../auth.js';
import { field, radioGroup, radioValue, val, options, clearErrors, showErrors, showApiError } from '../forms.js';
import { TYPES, PRIVACY, CHANNELS, STAFF_CHANNELS } from '../labels.js';

export const title = 'Catat laporan';

export async function render(view) {
  const s = session();
  view.append(h('h1', { id: 'catat-h1' }, title));
  if (!s || s.role !== 'admin') {
    view.append(h('div', { class: 'msg msg-warn' }, h('p', {}, 'Halaman ini hanya untuk admin Diskominfotik.')));
    return;
  }
  view.append(h('p', {}, 'Untuk pengaduan yang datang langsung, lewat telepon, surat atau media sosial. '
    + 'Laporan masuk ke kotak verifikasi seperti laporan dari situs web.'));

  const channel = h('select', { required: true });
  options(channel, STAFF_CHANNELS.map((c) => ({ value: c, label: CHANNELS[c] })), { placeholder: 'Pilih saluran' });
  const kecamatan = h('select', { required: true });
  const category = h('select', {});
  options(kecamatan, [], { placeholder: 'Pilih kecamatan' });
  options(category, [], { placeholder: 'Belum tahu' });
  Promise.all([reference('kecamatan'), reference('categories')]).then(([kec, cats]) => {
    options(kecamatan, kec.map((k) => ({ value: k.code, label: k.name })), { placeholder: 'Pilih kecamatan' });
    options(category, cats.map((c) => ({ value: c.code, label: c.name })).sort((a, b) => a.label.localeCompare(b.label, 'id')),
      { placeholder: 'Belum tahu' });
  }).catch(() => {});

  const form = h('form', { novalidate: true, 'aria-labelledby': 'catat-h1' },
    h('fieldset', {}, h('legend', {}, 'Asal laporan'),
      field({ label: 'Saluran', name: 'channel', required: true, control: channel })),
    h('fieldset', {}, h('legend', {}, 'Isi laporan'),
      radioGroup({ legend: 'Jenis laporan', name: 'type', required: true, value: 'pengaduan',
        options: Object.entries(TYPES).map(([value, t]) => ({ value, label: t.label })) }),
      field({ label: 'Judul', name: 'title', required: true, attrs: { maxlength: 150, autocomplete: 'off' } }),
      field({ label: 'Uraian', name: 'description', type: 'textarea', required: true, hint: 'Minimal 20 karakter, sesuai keterangan warga.', attrs: { rows: 4, maxlength: 4000 } }),
      field({ label: 'Kategori', name: 'category', optional: true, control: category }),
      field({ label: 'Kecamatan', name: 'location.kecamatan', required: true, control: kecamatan }),
      field({ label: 'Alamat atau patokan', name: 'location.address', optional: true, attrs: { maxlength: 300 } })),
    h('fieldset', {}, h('legend', {}, 'Pelapor'),
      radioGroup({ legend: 'Kerahasiaan', name: 'privacy', required: true, value: 'publik',
        options: Object.entries(PRIVACY).map(([value, p]) => ({ value, label: p.label })) }),
      field({ label: 'Nama', name: 'reporter.name', hint: 'Wajib kecuali warga memilih Anonim.', attrs: { autocomplete: 'off' } }),
      field({ label: 'Nomor HP', name: 'reporter.phone', type: 'tel', hint: 'Kode akses juga dikirim ke nomor ini.', attrs: { autocomplete: 'off' } }),
      field({ label: 'Email', name: 'reporter.email', type: 'email', attrs: { autocomplete: 'off' } })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Simpan laporan')));
  const result = h('div', { 'aria-live': 'polite' });
  view.append(form, result);

  let key = randomId(); // one entry, one key: a double click or a retry files it once
  form.addEventListener('input', () => { key = randomId(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    clear(result);
    const reporter = Object.fromEntries(['name', 'phone', 'email'].map((k) => [k, val(form, `reporter.${k}`)]).filter(([, v]) => v));
    const body = {
      channel: val(form, 'channel'), type: radioValue(form, 'type'), title: val(form, 'title'),
      description: val(form, 'description'), privacy: radioValue(form, 'privacy'), reporter,
      location: { kecamatan: val(form, 'location.kecamatan'), ...(val(form, 'location.address') ? { address: val(form, 'location.address') } : {}) },
      ...(val(form, 'category') ? { category: val(form, 'category') } : {}),
    };
    const problems = [];
    if (!body.channel) problems.push({ field: 'channel', message: 'Pilih saluran asal laporan.' });
    if (!body.location.kecamatan) problems.push({ field: 'location.kecamatan', message: 'Pilih kecamatan.' });
    if (problems.length) { showErrors(form, problems); return; }
    try {
      const created = await api('/staff/reports', { method: 'POST', body, staff: true, idempotencyKey: key });
      key = randomId();
      result.append(h('div', { class: 'msg msg-ok', role: 'status' },
        h('h2', {}, 'Laporan tersimpan'),
        h('p', {}, 'Berikan nomor laporan dan kode akses ini kepada warga (tulis atau cetak):'),
        h('dl', {}, h('dt', {}, 'Nomor laporan'), h('dd', { id: 'catat-tracking' }, created.tracking_id),
          h('dt', {}, 'Kode akses'), h('dd', { id: 'catat-token' }, created.access_token)),
        h('p', {}, h('a', { href: `#/staf/laporan/${created.tracking_id}` }, 'Buka laporan ini'))));
      form.reset();
    } catch (err) {
      if (err instanceof ApiError) showApiError(form, err);
      else throw err;
    }
  });
}
