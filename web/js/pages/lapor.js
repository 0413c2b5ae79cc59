// Lapor: the citizen's report form, and the once-only display of tracking number and token.
import { h, clear, flash, fmtDateTime, todayWib, copyText, downloadBlob, randomId } from '../dom.js';
import { api, reference, ApiError } from '../api.js';
import { field, radioGroup, radioValue, val, options, showErrors, showApiError, clearErrors, attachmentPicker } from '../forms.js';
import { TYPES, PRIVACY, statusLabel } from '../labels.js';
import { memory } from '../store.js';
import { tileMap } from '../map.js';
import { kecamatanCentres, locate } from '../geo.js';
import { saveDraft, listDrafts, deleteDraft } from '../device.js';
import { sendDrafts, onOutbox, expired } from '../outbox.js';

export const title = 'Buat laporan';

const CATEGORY_UNKNOWN = 'Belum tahu';
// Category codes flagged `sensitive` in the reference data (GET /categories): filled when it loads.
const sensitiveCategories = new Set();

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

/** Categories by their shown name; "Lainnya" last, where a person looks for it. */
export function sortCategories(items) {
  return [...items].sort((a, b) => (a.code === 'lainnya') - (b.code === 'lainnya') || a.name.localeCompare(b.name, 'id'));
}

/** The location part: kecamatan, desa, address, and an optional point on a map. */
function locationPart() {
  const kecSelect = h('select', { autocomplete: 'off' });
  options(kecSelect, [], { placeholder: 'Memuat daftar kecamatan…' });
  // The desa of the chosen kecamatan, from the kecamatan list already loaded (no request of its own).
  const desaSelect = h('select', { autocomplete: 'off', disabled: true });
  options(desaSelect, [], { placeholder: 'Pilih kecamatan dahulu' });
  let kecItems = [];
  function syncDesa() {
    const kec = kecItems.find((k) => k.code === kecSelect.value);
    const keep = desaSelect.value;
    const desa = kec && Array.isArray(kec.desa) ? kec.desa : [];
    options(desaSelect, desa.map((d) => ({ value: d.code, label: d.name })),
      { placeholder: kec ? 'Tidak tahu / tidak dipilih' : 'Pilih kecamatan dahulu' });
    desaSelect.value = desa.some((d) => d.code === keep) ? keep : '';
    desaSelect.disabled = !desa.length;
  }
  function setKecamatanItems(items) { kecItems = items; syncDesa(); }
  kecSelect.addEventListener('change', syncDesa);
  const latInput = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '-6.8123' });
  const lonInput = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '107.4987' });
  const status = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const warning = h('div', { class: 'msg msg-warn', role: 'alert', hidden: true });
  const mapEl = h('div', { class: 'map', role: 'region', 'aria-label': 'Peta lokasi kejadian: ketuk peta atau geser penanda' });
  const mapBox = h('div', { class: 'map-wrap', hidden: true }, mapEl,
    h('p', { class: 'hint' }, 'Ketuk peta untuk memindahkan penanda, atau geser penandanya.'));
  const geoButton = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Gunakan lokasi saya');
  const mapButton = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-expanded': 'false' }, 'Pilih di peta');
  const clearButton = h('button', { type: 'button', class: 'btn btn-secondary btn-small', hidden: true }, 'Hapus titik');
  const coords = h('details', { class: 'coords' }, h('summary', {}, 'Koordinat (lintang dan bujur)'),
    h('div', { class: 'row row-2' },
      field({ label: 'Lintang (latitude)', name: 'location.lat', optional: true, control: latInput }),
      field({ label: 'Bujur (longitude)', name: 'location.lon', optional: true, control: lonInput })));
  let leaflet = null; // {L, map, marker}
  let centres = null;
  kecamatanCentres().then((d) => { centres = d; }).catch(() => {});

  async function openMap(point) {
    mapBox.hidden = false;
    mapButton.setAttribute('aria-expanded', 'true');
    if (!leaflet) {
      const start = point || [-6.86, 107.49];
      const { L, map } = await tileMap(mapEl, start, point ? 16 : 10);
      const marker = L.marker(start, { draggable: true, keyboard: true, title: 'Titik lokasi kejadian', alt: 'Titik lokasi kejadian' });
      if (point) marker.addTo(map);
      marker.on('dragend', () => { const p = marker.getLatLng(); setPoint(p.lat, p.lng, 'peta'); });
      map.on('click', (e) => setPoint(e.latlng.lat, e.latlng.lng, 'peta'));
      leaflet = { L, map, marker };
    } else if (point) {
      leaflet.marker.setLatLng(point).addTo(leaflet.map);
      leaflet.map.setView(point, Math.max(leaflet.map.getZoom(), 15));
    }
    leaflet.map.invalidateSize();
  }

  function setPoint(lat, lon, source) {
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    clearButton.hidden = false;
    if (leaflet) leaflet.marker.setLatLng([lat, lon]).addTo(leaflet.map);
    warning.hidden = true;
    clear(warning);
    let text = source === 'gps' ? 'Lokasi Anda terisi.' : 'Titik lokasi terisi.';
    if (centres) {
      const where = locate(centres, { lat, lon });
      if (!where.inside) {
        warning.hidden = false;
        warning.append(h('p', {}, 'Titik ini berada di luar Kabupaten Bandung Barat. Lapor KBB hanya menangani pelayanan publik di KBB: periksa kembali titiknya.'));
      } else if (kecSelect.querySelector(`option[value="${where.code}"]`)) {
        if (kecSelect.value !== where.code) {
          kecSelect.value = where.code;
          kecSelect.dispatchEvent(new Event('change', { bubbles: true }));
        }
        text += ` Kecamatan dipilih otomatis: ${where.name}. Ubah bila keliru.`;
      }
    }
    status.textContent = text;
  }

  geoButton.addEventListener('click', () => {
    if (!('geolocation' in navigator)) {
      status.textContent = 'Perangkat ini tidak mendukung penentuan lokasi. Pilih titik di peta atau lewati.';
      return;
    }
    status.textContent = 'Mencari lokasi Anda…';
    geoButton.disabled = true;
    navigator.geolocation.getCurrentPosition((pos) => {
      geoButton.disabled = false;
      const { latitude, longitude, accuracy } = pos.coords;
      setPoint(latitude, longitude, 'gps');
      status.textContent += ` Ketelitian sekitar ${Math.round(accuracy)} m.`;
      openMap([latitude, longitude]).catch(() => { mapBox.hidden = true; });
    }, (err) => {
      status.textContent = err.code === 1
        ? 'Izin lokasi ditolak. Pilih titik di peta, atau lewati (titik tidak wajib).'
        : 'Lokasi tidak dapat ditentukan. Pilih titik di peta, atau lewati.';
      geoButton.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  mapButton.addEventListener('click', () => {
    if (!mapBox.hidden) { mapBox.hidden = true; mapButton.setAttribute('aria-expanded', 'false'); return; }
    const lat = num(latInput.value.trim());
    const lon = num(lonInput.value.trim());
    openMap(Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null)
      .catch(() => { mapBox.hidden = true; status.textContent = 'Peta tidak dapat dimuat. Isi koordinat secara manual atau lewati.'; });
  });
  clearButton.addEventListener('click', () => {
    latInput.value = ''; lonInput.value = '';
    if (leaflet) leaflet.marker.remove();
    clearButton.hidden = true;
    warning.hidden = true;
    status.textContent = 'Titik lokasi dihapus.';
  });
  const onCoords = () => {
    const lat = num(latInput.value.trim());
    const lon = num(lonInput.value.trim());
    if (Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) setPoint(lat, lon, 'manual');
  };
  latInput.addEventListener('change', onCoords);
  lonInput.addEventListener('change', onCoords);

  const element = h('fieldset', {},
    h('legend', {}, 'Lokasi'),
    h('div', { class: 'row row-2' },
      field({ label: 'Kecamatan', name: 'location.kecamatan', required: true, control: kecSelect }),
      field({ label: 'Desa/kelurahan', name: 'location.desa', optional: true, control: desaSelect })),
    field({ label: 'Alamat atau patokan', name: 'location.address', optional: true, hint: 'Contoh: Jl. Raya Lembang km 5, dekat masjid.', attrs: { autocomplete: 'off' } }),
    h('p', { class: 'label' }, 'Titik di peta ', h('span', { class: 'opt' }, '(opsional)')),
    h('div', { class: 'actions actions-tight' }, geoButton, mapButton, clearButton),
    status, warning, mapBox, coords);
  return { element, kecSelect, setKecamatanItems, syncDesa, latInput, lonInput, setPoint, coordsOpen: () => { coords.open = true; } };
}

function draftList(container, { onSend }) {
  clear(container);
  listDrafts().then((drafts) => {
    clear(container);
    if (!drafts.length) return;
    container.append(h('section', { class: 'card draft-box', 'aria-labelledby': 'draft-h' },
      h('h2', { id: 'draft-h' }, 'Menunggu sinyal'),
      h('p', {}, 'Laporan berikut tersimpan di perangkat ini dan dikirim otomatis saat ada sinyal (satu kali saja). '
        + 'Halaman ini boleh ditutup; buka lagi Lapor KBB saat ada sinyal. NIK tidak ikut disimpan.'),
      h('ul', { class: 'draft-list' }, drafts.map((d) => h('li', { 'data-draft': d.id },
        h('strong', {}, d.body.title), ` · ditulis ${fmtDateTime(new Date(d.created_at).toISOString())}`,
        d.files && d.files.length ? ` · ${d.files.length} lampiran` : '',
        d.error ? h('p', { class: 'field-error' }, d.error) : null,
        expired(d) ? h('p', {}, 'Draf ini lebih dari sehari. Kirim sekarang? (dikirim sebagai laporan baru)') : null,
        h('div', { class: 'actions actions-tight' },
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => onSend(d) }, expired(d) ? 'Ya, kirim' : 'Kirim sekarang'),
          h('button', {
            type: 'button', class: 'btn btn-secondary btn-small',
            onclick: async () => { await deleteDraft(d.id); draftList(container, { onSend }); },
          }, 'Hapus draf')))))));
  }).catch(() => {});
}

export async function render(view) {
  if (memory.sentResults.length) {
    // A draft was filed while the app was open (outbox.js, app.js): its codes are shown once, here.
    const res = memory.sentResults.shift();
    showResult(view, res, { fromDraft: true });
    return;
  }
  let idem = null; // {key, body}: the same body retried keeps its Idempotency-Key

  const typeGroup = radioGroup({
    legend: 'Jenis laporan', name: 'type', required: true, value: 'pengaduan',
    options: Object.entries(TYPES).map(([value, t]) => ({ value, label: t.label, desc: t.desc })),
  });
  const titleInput = h('input', { type: 'text', maxlength: 150, autocomplete: 'off' });
  const titleCounter = h('p', { class: 'counter', 'aria-hidden': 'true' }, '0/150');
  titleInput.addEventListener('input', () => { titleCounter.textContent = `${titleInput.value.length}/150`; });
  const descInput = h('textarea', { rows: 4, maxlength: 4000 });
  const descCounter = h('p', { class: 'counter', 'aria-hidden': 'true' }, '0/4000');
  descInput.addEventListener('input', () => { descCounter.textContent = `${descInput.value.length}/4000`; });

  const categorySelect = h('select', {});
  options(categorySelect, [], { placeholder: CATEGORY_UNKNOWN });

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
  const drafts = h('div', { id: 'drafts' });
  const form = h('form', { novalidate: true, 'aria-labelledby': 'lapor-h1' });
  const place = locationPart();
  form.addEventListener('reset', () => setTimeout(place.syncDesa)); // a reset form offers no stale desa

  form.append(
    h('fieldset', {},
      h('legend', {}, 'Isi laporan'),
      typeGroup,
      (() => { const f = field({ label: 'Judul', name: 'title', required: true, control: titleInput, hint: 'Contoh: Jalan berlubang di depan SDN 1 Cikole.' }); f.append(titleCounter); return f; })(),
      (() => { const f = field({ label: 'Uraian', name: 'description', required: true, control: descInput, hint: 'Apa, di mana, sejak kapan, dan harapan Anda (minimal 20 karakter). Jangan menulis NIK atau data pribadi orang lain.' }); f.append(descCounter); return f; })(),
      h('div', { class: 'row row-2' },
        field({ label: 'Kategori', name: 'category', optional: true, control: categorySelect }),
        field({ label: 'Tanggal kejadian', name: 'incident_date', type: 'date', optional: true, attrs: { max: todayWib() } }))),
    place.element,
    h('fieldset', {},
      h('legend', {}, 'Kerahasiaan'),
      privacyGroup),
    h('fieldset', { 'aria-describedby': 'reporter-note' },
      h('legend', {}, 'Identitas pelapor'),
      reporterNote,
      field({ label: 'Nama', name: 'reporter.name', attrs: { autocomplete: 'name' } }),
      h('div', { class: 'row row-2' },
        field({ label: 'Email', name: 'reporter.email', type: 'email', attrs: { autocomplete: 'email', inputmode: 'email' } }),
        field({ label: 'Nomor HP', name: 'reporter.phone', type: 'tel', hint: 'Contoh: 0812-3456-7890.', attrs: { autocomplete: 'tel' } })),
      field({ label: 'NIK', name: 'reporter.nik', optional: true, hint: '16 angka, disimpan terenkripsi; tidak diperlihatkan kepada OPD atau publik.', attrs: { inputmode: 'numeric', autocomplete: 'off', maxlength: 16 } })),
    h('fieldset', {},
      h('legend', {}, 'Lampiran'),
      attachments.element),
    h('div', { class: 'actions' }, submit),
    sending);

  function updatePrivacy() {
    const p = radioValue(form, 'privacy');
    reporterNote.textContent = p === 'anonim'
      ? 'Anda memilih Anonim: nama dan kontak boleh dikosongkan. Bila diisi, hanya admin Diskominfotik yang melihatnya.'
      : 'Wajib: nama dan email atau nomor HP (untuk kabar perkembangan laporan). Tidak wajib bila Anda memilih Anonim.';
    const sensitive = sensitiveCategories.has(categorySelect.value);
    privacyAdvice.textContent = !sensitive ? ''
      : p === 'rahasia'
        ? 'Kategori ini menyangkut kesehatan, anak, atau bantuan sosial, jadi Rahasia sudah dipilih: laporan tidak tampil untuk publik, hanya admin dan OPD yang menanganinya yang membacanya. Anda tetap boleh memilih yang lain.'
        : 'Kategori ini menyangkut kesehatan, anak, atau bantuan sosial: sebaiknya dikirim sebagai Rahasia agar data Anda dan orang yang dilaporkan tidak tampil untuk publik.';
  }
  // A sensitive category pre-selects Rahasia once, unless the reporter chose a privacy mode themselves.
  let privacyChosen = false;
  privacyGroup.addEventListener('change', () => { privacyChosen = true; });
  categorySelect.addEventListener('change', () => {
    if (privacyChosen || !sensitiveCategories.has(categorySelect.value)) return;
    const secret = form.querySelector('input[name="privacy"][value="rahasia"]');
    if (secret) secret.checked = true;
  });
  form.addEventListener('change', updatePrivacy);
  updatePrivacy();

  const sendDraftNow = async (d) => {
    sending.textContent = 'Mengirim draf…';
    const n = await sendDrafts({ confirmedId: d.id });
    if (!n) sending.textContent = navigator.onLine === false ? 'Belum ada sinyal. Draf tetap tersimpan.' : '';
    draftList(drafts, { onSend: sendDraftNow });
  };
  const stop = onOutbox((ev) => {
    if (!form.isConnected) { stop(); return; }
    if (ev.changed) draftList(drafts, { onSend: sendDraftNow });
  });

  view.append(
    h('h1', { id: 'lapor-h1' }, 'Buat laporan'),
    h('p', {}, 'Tanpa sinyal? Laporan disimpan di perangkat ini dan dikirim saat sinyal kembali.'),
    drafts,
    form);
  draftList(drafts, { onSend: sendDraftNow });

  // Reference lists (kecamatan is required, so a failure is shown on the field).
  reference('kecamatan').then((items) => {
    const chosen = place.kecSelect.value;
    options(place.kecSelect, items.map((k) => ({ value: k.code, label: k.name })), { placeholder: 'Pilih kecamatan', value: chosen });
    place.setKecamatanItems(items);
  }).catch((err) => {
    options(place.kecSelect, [], { placeholder: 'Daftar kecamatan gagal dimuat' });
    showErrors(form, [{ field: 'location.kecamatan', message: `Daftar kecamatan gagal dimuat: ${err.text || err.message}. Muat ulang halaman.` }]);
  });
  reference('categories').then((items) => {
    for (const c of items) if (c.sensitive) sensitiveCategories.add(c.code);
    options(categorySelect, sortCategories(items).map((c) => ({ value: c.code, label: c.name })), { placeholder: CATEGORY_UNKNOWN });
  }).catch(() => { /* optional field: the form works without it */ });

  async function keepAsDraft(body) {
    const files = await attachments.files();
    const key = idem && idem.body === JSON.stringify(body) ? idem.key : randomId();
    await saveDraft({ id: randomId(), key, key_made_at: Date.now(), created_at: Date.now(), body, files: files.map((f) => ({ file: f.file, id: f.id })) });
    clearErrors(form);
    form.reset();
    attachments.reset();
    place.latInput.value = '';
    place.lonInput.value = '';
    sending.textContent = '';
    draftList(drafts, { onSend: sendDraftNow });
    flash('info', 'Belum ada sinyal. Laporan disimpan di perangkat ini (tanpa NIK) dan dikirim otomatis saat sinyal kembali.');
    window.scrollTo(0, 0);
  }

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
    const lat = num(place.latInput.value.trim());
    const lon = num(place.lonInput.value.trim());
    if (lat !== undefined) body.location.lat = lat;
    if (lon !== undefined) body.location.lon = lon;
    for (const k of ['name', 'email', 'phone', 'nik']) { const v = val(form, `reporter.${k}`); if (v) body.reporter[k] = v; }

    const problems = validate(body);
    if (problems.length) {
      if (problems.some((p) => p.field.startsWith('location.l'))) place.coordsOpen();
      showErrors(form, problems);
      return;
    }
    clearErrors(form);

    submit.disabled = true;
    if (navigator.onLine === false) {
      await keepAsDraft(body);
      submit.disabled = false;
      return;
    }
    sending.textContent = 'Mengirim laporan…';
    try {
      const ids = await attachments.ids();
      if (ids.length) body.attachments = ids;
      const json = JSON.stringify(body);
      if (!idem || idem.body !== json) idem = { key: randomId(), body: json };
      const res = await api('/reports', { method: 'POST', body, idempotencyKey: idem.key });
      clearErrors(form);
      stop();
      showResult(view, res);
    } catch (err) {
      sending.textContent = '';
      if (err instanceof ApiError && err.code === 'network' && navigator.onLine === false) {
        delete body.attachments;
        await keepAsDraft(body);
      } else if (err instanceof ApiError && err.code === 'network') {
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

function showResult(view, res, { fromDraft = false } = {}) {
  clear(view);
  memory.tracking = { tracking_id: res.tracking_id, access_token: res.access_token };
  const text = `Lapor KBB\nNomor laporan: ${res.tracking_id}\nKode akses: ${res.access_token}\n`
    + `Dikirim: ${fmtDateTime(res.created_at)}\nLacak di: ${window.location.origin}${window.location.pathname}#/lacak\n`;
  view.append(
    h('h1', { tabindex: '-1' }, 'Laporan terkirim'),
    fromDraft ? h('p', { class: 'msg msg-ok' }, 'Sinyal kembali: laporan yang tersimpan di perangkat ini sudah terkirim.') : null,
    h('div', { class: 'msg msg-warn', role: 'alert', id: 'res-notice' },
      h('p', { class: 'msg-title' }, 'Simpan nomor laporan dan kode akses ini sekarang.'),
      h('p', {}, res.access_notice || (res.access_code_recoverable === false
        ? 'Anda tidak mencantumkan nomor HP atau email: kode akses ini satu-satunya kunci laporan Anda dan tidak dapat dipulihkan.'
        : 'Kode akses juga kami kirim ke nomor HP/email Anda; bila hilang, pilih "Lupa kode akses?" di halaman Lacak.')),
      h('p', {}, 'Tanpa nomor dan kode akses Anda tidak dapat melacak, membalas, atau menilai laporan. Jangan bagikan kode akses kepada orang lain.')),
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
