// Lapor: the citizen's report form, and the once-only display of tracking number and token.
import { h, clear, fmtDateTime, todayWib, copyText, downloadBlob, randomId } from '../dom.js';
import { api, reference, ApiError } from '../api.js';
import { field, radioGroup, radioValue, val, options, showErrors, showApiError, clearErrors, attachmentPicker } from '../forms.js';
import { TYPES, PRIVACY, statusLabel } from '../labels.js';
import { memory } from '../store.js';

export const title = 'Buat laporan';

const SENSITIVE = /(kesehatan|sehat|rsud|puskesmas|anak|bansos|bantuan_sosial|bantuan sosial|sosial)/i;

/** Client-side checks that mirror the contract; the API remains the judge. */
function validate(body) {
  const d = [];
  const add = (field, message) => d.push({ field, message });
  if (!TYPES[body.type]) add('type', 'Pilih jenis laporan.');
  const t = body.title || '';
  if (t.length < 5) add('title', 'Judul minimal 5 karakter.');
  else if (t.length > 150) add('title', 'Judul maksimal 150 karakter.');
  const desc = body.description || '';
  if (desc.length < 20) add('description', 'Uraian minimal 20 karakter: ceritakan apa, di mana, dan kapan.');
  else if (desc.length > 4000) add('description', 'Uraian maksimal 4000 karakter.');
  if (!body.location.kecamatan) add('location.kecamatan', 'Pilih kecamatan lokasi kejadian.');
  if (body.incident_date && body.incident_date > todayWib()) add('incident_date', 'Tanggal kejadian tidak boleh di masa depan.');
  const { lat, lon } = body.location;
  if ((lat === undefined) !== (lon === undefined)) {
    add(lat === undefined ? 'location.lat' : 'location.lon', 'Isi lintang dan bujur sekaligus, atau kosongkan keduanya.');
  }
  if (lat !== undefined && !(lat >= -90 && lat <= 90)) add('location.lat', 'Lintang harus angka antara -90 dan 90.');
  if (lon !== undefined && !(lon >= -180 && lon <= 180)) add('location.lon', 'Bujur harus angka antara -180 dan 180.');
  if (!PRIVACY[body.privacy]) add('privacy', 'Pilih tingkat kerahasiaan.');
  const r = body.reporter;
  if (body.privacy !== 'anonim') {
    if (!r.name) add('reporter.name', 'Nama wajib diisi, kecuali Anda memilih Anonim.');
    if (!r.email && !r.phone) {
      add('reporter.email', 'Isi email atau nomor HP (salah satu), kecuali Anda memilih Anonim.');
      add('reporter.phone', 'Isi nomor HP atau email (salah satu), kecuali Anda memilih Anonim.');
    }
  }
  if (r.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(r.email)) add('reporter.email', 'Format email tidak valid, contoh: nama@contoh.id.');
  if (r.phone && !/^[+0-9][0-9 \-]*$/.test(r.phone)) add('reporter.phone', 'Nomor HP hanya berisi angka, spasi, tanda minus, atau + di depan.');
  if (r.nik && !/^[1-9]\d{15}$/.test(r.nik)) add('reporter.nik', 'NIK terdiri dari 16 angka dan tidak diawali 0.');
  return d;
}

function num(s) {
  if (s === '') return undefined;
  const x = Number(String(s).replace(',', '.'));
  return Number.isFinite(x) ? x : NaN;
}

export async function render(view) {
  let idem = null; // {key, body}: the same body retried keeps its Idempotency-Key

  const typeGroup = radioGroup({
    legend: 'Jenis laporan', name: 'type', required: true, value: 'pengaduan',
    options: Object.entries(TYPES).map(([value, t]) => ({ value, label: t.label, desc: t.desc })),
  });
  const titleInput = h('input', { type: 'text', maxlength: 150, autocomplete: 'off' });
  const titleCounter = h('p', { class: 'counter', 'aria-hidden': 'true' }, '0/150');
  titleInput.addEventListener('input', () => { titleCounter.textContent = `${titleInput.value.length}/150`; });
  const descInput = h('textarea', { rows: 6, maxlength: 4000 });
  const descCounter = h('p', { class: 'counter', 'aria-hidden': 'true' }, '0/4000');
  descInput.addEventListener('input', () => { descCounter.textContent = `${descInput.value.length}/4000`; });

  const categorySelect = h('select', {});
  const kecSelect = h('select', { autocomplete: 'off' });
  options(kecSelect, [], { placeholder: 'Memuat daftar kecamatan…' });
  options(categorySelect, [], { placeholder: 'Tidak tahu / lainnya' });

  const latInput = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '-6.8123' });
  const lonInput = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '107.4987' });
  const geoStatus = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const geoButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Gunakan lokasi saya');
  const geoClear = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Kosongkan posisi');
  geoButton.addEventListener('click', () => {
    if (!('geolocation' in navigator)) {
      geoStatus.textContent = 'Perangkat ini tidak mendukung penentuan lokasi. Isi angka secara manual atau kosongkan.';
      return;
    }
    geoStatus.textContent = 'Mencari lokasi Anda…';
    geoButton.disabled = true;
    navigator.geolocation.getCurrentPosition((pos) => {
      latInput.value = pos.coords.latitude.toFixed(6);
      lonInput.value = pos.coords.longitude.toFixed(6);
      geoStatus.textContent = `Lokasi terisi (ketelitian sekitar ${Math.round(pos.coords.accuracy)} m).`;
      geoButton.disabled = false;
    }, (err) => {
      geoStatus.textContent = err.code === 1
        ? 'Izin lokasi ditolak. Isi angka secara manual atau kosongkan.'
        : 'Lokasi tidak dapat ditentukan. Isi angka secara manual atau kosongkan.';
      geoButton.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  geoClear.addEventListener('click', () => { latInput.value = ''; lonInput.value = ''; geoStatus.textContent = 'Posisi dikosongkan.'; });

  const privacyGroup = radioGroup({
    legend: 'Siapa yang boleh melihat laporan ini?', name: 'privacy', required: true, value: 'publik',
    options: Object.entries(PRIVACY).map(([value, p]) => ({ value, label: p.label, desc: p.desc })),
  });
  const privacyAdvice = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  privacyGroup.append(privacyAdvice);

  const reporterNote = h('p', { class: 'hint', id: 'reporter-note', 'aria-live': 'polite' });
  const attachments = attachmentPicker({ name: 'attachments' });

  const submit = h('button', { type: 'submit', class: 'btn' }, 'Kirim laporan');
  const sending = h('p', { role: 'status', 'aria-live': 'polite', class: 'hint' });

  const form = h('form', { novalidate: true, 'aria-labelledby': 'lapor-h1' },
    h('fieldset', {},
      h('legend', {}, 'Isi laporan'),
      typeGroup,
      (() => { const f = field({ label: 'Judul', name: 'title', required: true, control: titleInput, hint: 'Ringkas, 5 sampai 150 karakter. Contoh: Jalan berlubang di depan SDN 1 Cikole.' }); f.append(titleCounter); return f; })(),
      (() => { const f = field({ label: 'Uraian', name: 'description', required: true, control: descInput, hint: 'Ceritakan apa yang terjadi, di mana, sejak kapan, dan apa yang Anda harapkan (20 sampai 4000 karakter). Jangan menulis NIK atau data pribadi orang lain di sini.' }); f.append(descCounter); return f; })(),
      field({ label: 'Kategori', name: 'category', optional: true, control: categorySelect, hint: 'Boleh dikosongkan; admin akan menentukannya.' }),
      field({ label: 'Tanggal kejadian', name: 'incident_date', type: 'date', optional: true, attrs: { max: todayWib() } })),
    h('fieldset', {},
      h('legend', {}, 'Lokasi'),
      h('div', { class: 'row row-2' },
        field({ label: 'Kecamatan', name: 'location.kecamatan', required: true, control: kecSelect }),
        field({ label: 'Desa/kelurahan', name: 'location.desa', optional: true, attrs: { autocomplete: 'off' } })),
      field({ label: 'Alamat atau patokan', name: 'location.address', optional: true, hint: 'Contoh: Jl. Raya Lembang km 5, dekat masjid.', attrs: { autocomplete: 'off' } }),
      h('p', { class: 'hint' }, 'Posisi peta (opsional): isi lintang dan bujur, atau tekan "Gunakan lokasi saya".'),
      h('div', { class: 'row row-2' },
        field({ label: 'Lintang (latitude)', name: 'location.lat', optional: true, control: latInput }),
        field({ label: 'Bujur (longitude)', name: 'location.lon', optional: true, control: lonInput })),
      h('div', { class: 'actions' }, geoButton, geoClear),
      geoStatus),
    h('fieldset', {},
      h('legend', {}, 'Kerahasiaan'),
      privacyGroup),
    h('fieldset', { 'aria-describedby': 'reporter-note' },
      h('legend', {}, 'Identitas pelapor'),
      reporterNote,
      field({ label: 'Nama', name: 'reporter.name', attrs: { autocomplete: 'name' } }),
      h('div', { class: 'row row-2' },
        field({ label: 'Email', name: 'reporter.email', type: 'email', attrs: { autocomplete: 'email', inputmode: 'email' } }),
        field({ label: 'Nomor HP', name: 'reporter.phone', type: 'tel', hint: 'Contoh: 0812-3456-7890 atau +62 812 3456 7890.', attrs: { autocomplete: 'tel' } })),
      field({ label: 'NIK', name: 'reporter.nik', optional: true, hint: '16 angka. Disimpan terenkripsi, tidak pernah diperlihatkan kepada OPD atau publik.', attrs: { inputmode: 'numeric', autocomplete: 'off', maxlength: 16 } })),
    h('fieldset', {},
      h('legend', {}, 'Lampiran'),
      attachments.element),
    h('div', { class: 'actions' }, submit),
    sending);

  function updatePrivacy() {
    const p = radioValue(form, 'privacy');
    reporterNote.textContent = p === 'anonim'
      ? 'Anda memilih Anonim: nama dan kontak boleh dikosongkan. Bila diisi, hanya admin Diskominfotik yang melihatnya.'
      : 'Wajib: nama dan salah satu dari email atau nomor HP (untuk pemberitahuan perkembangan laporan). Tidak wajib bila Anda memilih Anonim.';
    const cat = categorySelect.value;
    const catName = categorySelect.selectedOptions[0] ? categorySelect.selectedOptions[0].textContent : '';
    privacyAdvice.textContent = p !== 'rahasia' && cat && SENSITIVE.test(`${cat} ${catName}`)
      ? 'Saran: laporan tentang kesehatan, anak, atau bantuan sosial sebaiknya dikirim sebagai Rahasia.'
      : '';
  }
  form.addEventListener('change', updatePrivacy);
  updatePrivacy();

  view.append(
    h('h1', { id: 'lapor-h1' }, 'Buat laporan'),
    h('p', {}, 'Kolom bertanda (wajib) harus diisi. Setelah dikirim, Anda menerima nomor laporan dan kode akses untuk memantau perkembangannya.'),
    form);

  // Reference lists (kecamatan is required, so a failure is shown on the field).
  reference('kecamatan').then((items) => {
    options(kecSelect, items.map((k) => ({ value: k.code, label: k.name })), { placeholder: 'Pilih kecamatan' });
  }).catch((err) => {
    options(kecSelect, [], { placeholder: 'Daftar kecamatan gagal dimuat' });
    showErrors(form, [{ field: 'location.kecamatan', message: `Daftar kecamatan gagal dimuat: ${err.text || err.message}. Muat ulang halaman.` }]);
  });
  reference('categories').then((items) => {
    options(categorySelect, items.map((c) => ({ value: c.code, label: c.name })), { placeholder: 'Tidak tahu / lainnya' });
  }).catch(() => { /* optional field: the form works without it */ });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    const body = {
      type: radioValue(form, 'type'),
      title: val(form, 'title'),
      description: val(form, 'description'),
      location: { kecamatan: val(form, 'location.kecamatan') },
      privacy: radioValue(form, 'privacy'),
      reporter: {},
    };
    const cat = val(form, 'category');
    if (cat) body.category = cat;
    const date = val(form, 'incident_date');
    if (date) body.incident_date = date;
    for (const k of ['desa', 'address']) { const v = val(form, `location.${k}`); if (v) body.location[k] = v; }
    const lat = num(latInput.value.trim());
    const lon = num(lonInput.value.trim());
    if (lat !== undefined) body.location.lat = lat;
    if (lon !== undefined) body.location.lon = lon;
    for (const k of ['name', 'email', 'phone', 'nik']) { const v = val(form, `reporter.${k}`); if (v) body.reporter[k] = v; }

    const problems = validate(body);
    if (problems.length) { showErrors(form, problems); return; }
    clearErrors(form);

    submit.disabled = true;
    sending.textContent = 'Mengirim laporan…';
    try {
      const ids = await attachments.ids();
      if (ids.length) body.attachments = ids;
      const json = JSON.stringify(body);
      if (!idem || idem.body !== json) idem = { key: randomId(), body: json };
      const res = await api('/reports', { method: 'POST', body, idempotencyKey: idem.key });
      clearErrors(form);
      showResult(view, res);
    } catch (err) {
      sending.textContent = '';
      if (err instanceof ApiError && err.code === 'network') {
        showApiError(form, err, 'Laporan Anda mungkin belum terkirim. Tekan "Kirim laporan" lagi: laporan yang sama tidak akan tercatat dua kali.');
      } else {
        showApiError(form, err);
      }
    } finally {
      submit.disabled = false;
      if (sending.textContent === 'Mengirim laporan…') sending.textContent = '';
    }
  });
}

function secretRow(label, value, id) {
  const out = h('output', { class: 'secret', id, 'aria-label': label }, value);
  const status = h('span', { role: 'status', 'aria-live': 'polite', class: 'hint' });
  return h('div', { class: 'field' },
    h('p', { class: 'label' }, label),
    out,
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-small',
        onclick: async () => {
          const ok = await copyText(value);
          status.textContent = ok ? `${label} disalin.` : 'Gagal menyalin: pilih teksnya lalu salin secara manual.';
        },
      }, `Salin ${label.toLowerCase()}`),
      status));
}

function showResult(view, res) {
  clear(view);
  memory.tracking = { tracking_id: res.tracking_id, access_token: res.access_token };
  const text = `Lapor KBB\nNomor laporan: ${res.tracking_id}\nKode akses: ${res.access_token}\n`
    + `Dikirim: ${fmtDateTime(res.created_at)}\nLacak di: ${window.location.origin}${window.location.pathname}#/lacak\n`;
  view.append(
    h('h1', { tabindex: '-1' }, 'Laporan terkirim'),
    h('div', { class: 'msg msg-warn', role: 'alert' },
      h('p', { class: 'msg-title' }, 'Simpan nomor laporan dan kode akses ini sekarang.'),
      h('p', {}, 'Kode akses hanya ditampilkan sekali ini dan tidak dapat dikirim ulang, juga tidak oleh petugas. '
        + 'Tanpa keduanya Anda tidak dapat melacak, membalas, atau menilai laporan. Jangan bagikan kode akses kepada orang lain.')),
    h('section', { class: 'card', 'aria-labelledby': 'res-h' },
      h('h2', { id: 'res-h' }, 'Data untuk melacak laporan'),
      secretRow('Nomor laporan', res.tracking_id, 'res-tracking'),
      secretRow('Kode akses', res.access_token, 'res-token'),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'btn btn-secondary',
          onclick: () => downloadBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), `lapor-kbb-${res.tracking_id}.txt`),
        }, 'Unduh sebagai berkas teks'))),
    h('dl', { class: 'props' },
      h('dt', {}, 'Status'), h('dd', {}, statusLabel(res.status)),
      h('dt', {}, 'Dikirim'), h('dd', {}, fmtDateTime(res.created_at)),
      h('dt', {}, 'Batas verifikasi'), h('dd', {}, fmtDateTime(res.due_at))),
    h('div', { class: 'actions' },
      h('a', { class: 'btn', href: '#/lacak' }, 'Lacak laporan ini'),
      h('a', { class: 'btn btn-secondary', href: '#/lapor', onclick: (e) => { e.preventDefault(); clear(view); render(view).then(() => view.querySelector('h1').focus()); } }, 'Buat laporan lain')),
  );
  view.querySelector('h1').focus();
  window.scrollTo(0, 0);
}
