// Form building blocks: labelled fields with hint and error slots, mapping of the API's
// validation `details` to fields, and the attachment picker that uploads through presigned POSTs.
import { h, nextId, clear, $all } from './dom.js';
import { uploadFile, ApiError, MAX_UPLOAD, UPLOAD_TYPES } from './api.js';
import { prepareForUpload } from './photos.js';

/**
 * A labelled control. `name` is the dotted API field name (e.g. "reporter.phone"); the wrapper
 * carries it in data-field so API errors find their place.
 */
export function field({ label, name, type = 'text', required = false, optional = false, hint, control, attrs = {} }) {
  const id = attrs.id || nextId(`f-${name.replace(/[^a-z0-9]/gi, '-')}`);
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  let el = control;
  if (!el) {
    if (type === 'textarea') el = h('textarea', { ...attrs, id, name });
    else if (type === 'select') el = h('select', { ...attrs, id, name });
    else el = h('input', { ...attrs, id, name, type });
  } else {
    el.id = id;
    if (!el.name) el.name = name;
  }
  el.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  if (required) el.setAttribute('aria-required', 'true');
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label,
      required ? h('span', { class: 'req' }, ' (wajib)') : null,
      optional ? h('span', { class: 'opt' }, ' (opsional)') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    el,
    h('p', { class: 'field-error', id: errId }));
}

/**
 * A group of radio buttons as a fieldset. options: [{value, label, desc}].
 */
export function radioGroup({ legend, name, options, value, required = false, hint, inline = false }) {
  const gid = nextId(`g-${name}`);
  const hintId = hint ? `${gid}-hint` : null;
  const errId = `${gid}-err`;
  const fs = h('fieldset', { class: 'field', 'data-field': name, 'aria-describedby': [hintId, errId].filter(Boolean).join(' ') },
    h('legend', {}, legend, required ? h('span', { class: 'req' }, ' (wajib)') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('div', { class: inline ? 'choices-inline' : 'choices' },
      options.map((o) => {
        const id = nextId(`r-${name}`);
        const descId = o.desc ? `${id}-desc` : null;
        return h('div', { class: 'choice' },
          h('input', { type: 'radio', id, name, value: o.value, checked: o.value === value, 'aria-describedby': descId }),
          h('label', { for: id },
            h('span', { class: 'choice-title' }, o.label),
            o.desc ? ' ' : null,
            o.desc ? h('span', { class: 'choice-desc', id: descId }, o.desc) : null));
      })),
    h('p', { class: 'field-error', id: errId }));
  return fs;
}

export function radioValue(form, name) {
  const r = form.querySelector(`input[type="radio"][name="${name}"]:checked`);
  return r ? r.value : '';
}

export function val(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return '';
  return typeof el.value === 'string' ? el.value.trim() : '';
}

export function options(select, items, { placeholder, value } = {}) {
  clear(select);
  if (placeholder !== undefined) select.append(h('option', { value: '' }, placeholder));
  for (const it of items) select.append(h('option', { value: it.value }, it.label));
  if (value !== undefined) select.value = value;
  return select;
}

// ---- errors -----------------------------------------------------------------------------

/** Normalise a detail's field name: "body.reporter.phone", ["reporter","phone"], "attachments[0]". */
function detailField(d) {
  if (!d || typeof d !== 'object') return '';
  let f = d.field ?? d.loc ?? d.path ?? '';
  if (Array.isArray(f)) f = f.join('.');
  f = String(f).replace(/\[(\d+)\]/g, '.$1').replace(/^(body|json|request)\./, '');
  return f;
}

// Field-specific wording for checks whose generic type says little (value_error).
const FIELD_TEXT = {
  'reporter.phone': 'Nomor HP tidak valid. Gunakan 08xx, 62xx, atau +62xx (8 sampai 15 angka).',
  'reporter.email': 'Alamat email tidak valid, contoh: nama@contoh.id.',
  'reporter.nik': 'NIK harus 16 angka, tidak diawali 0, dan sesuai format NIK.',
  'reporter.name': 'Nama wajib diisi, kecuali Anda memilih Anonim.',
  'location.kecamatan': 'Pilih kecamatan dari daftar.',
  incident_date: 'Tanggal kejadian tidak valid atau di masa depan.',
  attachments: 'Lampiran tidak dikenal atau belum selesai diunggah. Hapus lalu unggah ulang.',
  opd_code: 'Pilih OPD dari daftar.',
  category: 'Pilih kategori dari daftar.',
};

/**
 * Indonesian text for an API detail. The API's `details` carry a `type` (pydantic's error
 * types); known ones are phrased here, anything else shows the server's own message.
 */
function detailMessage(d, field) {
  if (typeof d === 'string') return d;
  const server = (d && (d.message || d.msg)) || '';
  const n = (server.match(/(\d+(?:\.\d+)?)/) || [])[1];
  const base = field.replace(/\.\d+$/, '');
  switch (d && d.type) {
    case 'missing': return 'Wajib diisi.';
    case 'string_too_short': return n ? `Terlalu pendek: minimal ${n} karakter.` : 'Terlalu pendek.';
    case 'string_too_long': return n ? `Terlalu panjang: maksimal ${n} karakter.` : 'Terlalu panjang.';
    case 'too_long': return n ? `Terlalu banyak: paling banyak ${n}.` : 'Terlalu banyak.';
    case 'less_than_equal': case 'less_than': return n ? `Nilai paling besar ${n}.` : 'Nilai terlalu besar.';
    case 'greater_than_equal': case 'greater_than': return n ? `Nilai paling kecil ${n}.` : 'Nilai terlalu kecil.';
    case 'literal_error': case 'enum': return FIELD_TEXT[base] || 'Pilihan tidak valid.';
    case 'extra_forbidden': return 'Kolom ini tidak dikenal oleh server.';
    case 'date_parsing': case 'date_from_datetime_parsing': case 'date_type': return 'Format tanggal tidak valid.';
    case 'float_parsing': case 'float_type': case 'int_parsing': case 'int_type': return 'Harus berupa angka.';
    case 'bool_type': case 'bool_parsing': return 'Pilih salah satu.';
    case 'value_error': case 'assertion_error': return FIELD_TEXT[base] || server || 'Isian tidak valid.';
    default: return server || FIELD_TEXT[base] || 'Isian tidak valid.';
  }
}

/** Find the field wrapper for a dotted name, walking up the name when needed (attachments.0). */
function findWrapper(form, name) {
  let n = name;
  while (n) {
    const w = form.querySelector(`[data-field="${CSS.escape(n)}"]`);
    if (w) return w;
    n = n.includes('.') ? n.slice(0, n.lastIndexOf('.')) : '';
  }
  return null;
}

export function clearErrors(form) {
  for (const w of $all('.has-error', form)) w.classList.remove('has-error');
  for (const e of $all('.field-error', form)) clear(e);
  for (const c of $all('[aria-invalid="true"]', form)) c.removeAttribute('aria-invalid');
  const s = form.querySelector('.error-summary');
  if (s) s.remove();
}

/** A field's error goes as soon as the person changes that field (the next submit checks again). */
function clearFieldOnEdit(form) {
  if (form.dataset.clearsOnEdit) return;
  form.dataset.clearsOnEdit = '1';
  const onEdit = (e) => {
    const w = e.target.closest && e.target.closest('.has-error');
    if (!w || !form.contains(w)) return;
    w.classList.remove('has-error');
    const slot = w.querySelector(':scope > .field-error') || w.querySelector('.field-error');
    if (slot) clear(slot);
    for (const c of $all('[aria-invalid="true"]', w)) c.removeAttribute('aria-invalid');
    const summary = form.querySelector('.error-summary');
    if (summary) {
      for (const li of $all('li', summary)) if (li.dataset.control && w.contains(document.getElementById(li.dataset.control))) li.remove();
      if (!summary.querySelector('li')) summary.remove();
    }
  };
  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
}

function firstControl(w) {
  return w.matches('input,select,textarea') ? w : w.querySelector('input,select,textarea,button');
}

/**
 * Show errors: details = [{field, message}]. Each goes next to its field; the rest, and a list
 * of links to all, go into a summary at the top of the form, which gets the focus.
 */
export function showErrors(form, details, { title = 'Periksa kembali isian berikut:', intro } = {}) {
  clearErrors(form);
  clearFieldOnEdit(form);
  const items = [];
  for (const d of details) {
    const name = detailField(d);
    const message = detailMessage(d, name);
    const w = name ? findWrapper(form, name) : null;
    if (w) {
      w.classList.add('has-error');
      const slot = w.querySelector(':scope > .field-error') || w.querySelector('.field-error');
      if (slot) slot.append(slot.textContent ? ` ${message}` : message);
      const c = firstControl(w);
      if (c && c.type !== 'radio' && c.type !== 'checkbox') c.setAttribute('aria-invalid', 'true');
      const labelEl = w.querySelector('legend, label');
      const labelText = labelEl ? labelEl.textContent.replace(/\s*\((wajib|opsional)\)\s*$/, '') : name;
      items.push({ text: `${labelText}: ${message}`, target: c });
    } else {
      items.push({ text: name ? `${name}: ${message}` : message, target: null });
    }
  }
  const summary = h('div', { class: 'msg msg-error error-summary', role: 'alert', tabindex: '-1' },
    h('p', { class: 'msg-title' }, title),
    intro ? h('p', {}, intro) : null,
    h('ul', {}, items.map((it) => h('li', { 'data-control': it.target && it.target.id ? it.target.id : null }, it.target
      ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); it.target.focus(); } }, it.text)
      : it.text))));
  form.prepend(summary);
  summary.focus();
  return summary;
}

/** Show an ApiError on a form: field details when present, else the plain message. */
export function showApiError(form, err, extra) {
  if (err instanceof ApiError && err.code === 'validation_error' && err.details.length) {
    return showErrors(form, err.details, { intro: extra });
  }
  clearErrors(form);
  const text = err instanceof ApiError ? err.text : 'Terjadi kesalahan. Coba lagi.';
  const box = h('div', { class: 'msg msg-error error-summary', role: 'alert', tabindex: '-1' },
    h('p', { class: 'msg-title' }, 'Belum berhasil'), h('p', {}, text), extra || null);
  form.prepend(box);
  box.focus();
  return box;
}

// ---- attachments ------------------------------------------------------------------------

function fmtSize(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toLocaleString('id-ID', { maximumFractionDigits: 1 })} MB`;
  return `${Math.max(1, Math.round(n / 1024)).toLocaleString('id-ID')} KB`;
}

/**
 * A file picker that makes each chosen photo fit the network (photos.js), uploads it at once
 * (POST /attachments, then the presigned POST) and shows the progress. A failed upload has its
 * own "Coba lagi" button: nothing else is sent again. widget.ids() waits for pending uploads and
 * returns the ids; widget.files() gives the prepared files and any ids (an offline draft keeps them).
 */
export function attachmentPicker({ name = 'attachments', label = 'Lampiran foto atau PDF', staff = false, max = 5 } = {}) {
  const entries = [];
  const list = h('ul', { class: 'file-list', 'aria-label': 'Berkas terpilih' });
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const input = h('input', { type: 'file', multiple: true, accept: UPLOAD_TYPES.join(',') });
  const wrapper = field({
    label, name, optional: true, control: input,
    hint: `Foto (diperkecil otomatis) atau PDF sampai ${fmtSize(MAX_UPLOAD)}, paling banyak ${max}. Jangan unggah foto KTP.`,
  });
  wrapper.append(list, live);

  function render() {
    clear(list);
    for (const e of entries) {
      let state;
      if (e.state === 'done') state = h('span', { class: 'file-state ok' }, 'Terunggah');
      else if (e.state === 'error') state = h('span', { class: 'file-state err' }, e.error);
      else if (e.state === 'waiting') state = h('span', { class: 'file-state' }, 'Menunggu sinyal');
      else if (e.state === 'preparing') state = h('span', { class: 'file-state' }, 'Memperkecil foto…');
      else {
        const pct = Math.round((e.progress || 0) * 100);
        state = h('span', { class: 'file-state' }, h('progress', { max: 100, value: pct, 'aria-label': `Unggahan ${e.name}` }), ` ${pct}%`);
      }
      list.append(h('li', { 'data-state': e.state },
        h('span', { class: 'file-name' }, `${e.name} (${fmtSize(e.size)})`),
        state,
        e.state === 'error' || e.state === 'waiting' ? h('button', {
          type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Coba unggah lagi ${e.name}`,
          onclick: () => send(e),
        }, 'Coba lagi') : null,
        h('button', {
          type: 'button', class: 'btn btn-secondary btn-small',
          'aria-label': `Hapus ${e.name}`,
          onclick: () => { entries.splice(entries.indexOf(e), 1); render(); live.textContent = `${e.name} dihapus.`; input.focus(); },
        }, 'Hapus')));
    }
  }

  // Progress events come often: redraw at most once a frame.
  let queued = false;
  function renderSoon() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; render(); });
  }

  function send(e) {
    e.state = 'uploading';
    e.progress = 0;
    e.error = '';
    render();
    e.promise = uploadFile(e.file, { staff, onProgress: (p) => { e.progress = p; renderSoon(); } })
      .then((id) => { e.id = id; e.state = 'done'; live.textContent = `${e.name} terunggah.`; })
      .catch((err) => {
        if (err instanceof ApiError && err.code === 'network' && navigator.onLine === false) {
          e.state = 'waiting';
          e.error = '';
          live.textContent = `${e.name}: menunggu sinyal.`;
          return;
        }
        e.state = 'error';
        e.error = err instanceof ApiError ? err.text : 'Gagal diunggah.';
        live.textContent = `${e.name}: ${e.error}`;
      })
      .finally(render);
    return e.promise;
  }

  function add(file, { id = null } = {}) {
    const e = { file, name: file.name, size: file.size, state: id ? 'done' : 'preparing', id, error: '', progress: 0 };
    entries.push(e);
    return e;
  }

  input.addEventListener('change', () => {
    for (const file of Array.from(input.files || [])) {
      if (entries.length >= max) {
        live.textContent = `Paling banyak ${max} berkas.`;
        break;
      }
      const e = add(file);
      e.promise = prepareForUpload(file).then((ready) => {
        e.file = ready;
        e.name = ready.name;
        e.size = ready.size;
        return send(e);
      });
    }
    input.value = '';
    render();
  });

  return {
    element: wrapper,
    input,
    /** Attachment ids once every upload settled; throws when one failed or waits for a signal. */
    async ids() {
      await Promise.all(entries.map((e) => e.promise));
      const waiting = entries.filter((e) => e.state === 'waiting');
      if (waiting.length) throw new ApiError(0, 'network', 'Belum ada sinyal untuk mengunggah lampiran.');
      const bad = entries.filter((e) => e.state === 'error');
      if (bad.length) {
        throw new ApiError(400, 'validation_error', 'upload', bad.map((b) => ({
          field: name, message: `${b.name}: ${b.error} Tekan "Coba lagi", atau hapus berkas ini.`,
        })));
      }
      return entries.map((e) => e.id);
    },
    /** The prepared files with their ids where uploaded (for an offline draft). */
    async files() {
      await Promise.all(entries.map((e) => e.promise && e.promise.catch(() => {})));
      return entries.map((e) => ({ file: e.file, id: e.id }));
    },
    /** Show files of a draft again: uploaded ones keep their id, the others are sent now. */
    restore(items) {
      for (const it of items) {
        const e = add(it.file, { id: it.id });
        e.promise = it.id ? Promise.resolve() : send(e);
      }
      render();
    },
    reset() { entries.length = 0; render(); },
  };
}
