// Staff report page: details, SLA, SP4N sync state, audit trail, and a form for each action the
// role may take in the current status. Every action is sent with If-Match: <version>.
import { h, append, clear, fmtDateTime, fmtDate, flash, nextId } from '../dom.js';
import { api, reference, refName, ApiError } from '../api.js';
import { session } from '../auth.js';
import { pointMap } from '../map.js';
import { field, val, options, showErrors, showApiError, clearErrors, attachmentPicker } from '../forms.js';
import {
  channelLabel,
  ACTIONS, ACTION_DONE, CLASSIFICATIONS, EVENT_ACTION, RETURN_REASONS, SLA_STAGE, allowedActions, statusBadge, statusLabel,
  typeLabel, privacyLabel, actorLabel, sp4nState,
} from '../labels.js';

export const title = 'Laporan';

const hasPoint = (loc) => Number.isFinite(Number(loc.lat)) && Number.isFinite(Number(loc.lon)) && loc.lat !== null && loc.lon !== null;

// The fields of each action (contract table). type: text | textarea | opd | category | classification | attachments
const FORMS = {
  verify: [
    { name: 'opd_code', type: 'opd', label: 'OPD tujuan', required: true },
    { name: 'classification', type: 'classification', label: 'Klasifikasi' },
    { name: 'category', type: 'category', label: 'Kategori' },
    { name: 'privacy', type: 'privacy_raise', label: 'Naikkan kerahasiaan', hint: 'Hanya dapat dinaikkan (Publik → Anonim → Rahasia), misalnya untuk laporan kesehatan, anak, atau bantuan sosial. Menurunkan hanya atas permintaan pelapor.' },
    { name: 'note', type: 'textarea', label: 'Catatan untuk OPD' },
    { name: 'type', type: 'report_type', label: 'Koreksi jenis', hint: 'Isi bila jenis yang dipilih pelapor keliru.' },
    { name: 'kecamatan', type: 'kecamatan', label: 'Koreksi kecamatan' },
    { name: 'desa', type: 'desa', label: 'Koreksi desa/kelurahan' },
  ],
  request_info: [
    { name: 'message', type: 'textarea', label: 'Pesan ke pelapor', required: true, hint: 'Sebutkan keterangan yang perlu dilengkapi. Pesan ini terlihat oleh pelapor.' },
  ],
  reject: [
    { name: 'reason', type: 'text', label: 'Alasan penolakan', required: true, hint: 'Untuk petugas, tidak terlihat oleh pelapor. Misalnya: bukan pelayanan publik, data tidak lengkap.' },
    { name: 'message', type: 'textarea', label: 'Pesan ke pelapor', required: true, hint: 'Terlihat oleh pelapor.' },
  ],
  redispose: [
    { name: 'opd_code', type: 'opd', label: 'OPD tujuan baru', required: true },
    { name: 'note', type: 'textarea', label: 'Alasan pengalihan', required: true, hint: 'Untuk petugas; tidak terlihat oleh pelapor.' },
  ],
  accept: [],
  respond: [
    { name: 'message', type: 'textarea', label: 'Tanggapan untuk pelapor', required: true, hint: 'Jelaskan tindak lanjut dan solusi. Terlihat oleh pelapor.' },
    { name: 'attachments', type: 'attachments', label: 'Lampiran tanggapan' },
  ],
  progress: [
    { name: 'message', type: 'textarea', label: 'Kabar perkembangan untuk pelapor', required: true, hint: 'Apa yang sudah dan akan dikerjakan. Terlihat oleh pelapor; laporan tetap berstatus diproses.' },
    { name: 'planned_completion', type: 'date', label: 'Rencana selesai', hint: 'Tanggal perkiraan pekerjaan selesai, ditampilkan kepada pelapor.' },
    { name: 'attachments', type: 'attachments', label: 'Lampiran (foto pekerjaan)' },
  ],
  return: [
    { name: 'reason_code', type: 'reason_code', label: 'Jenis alasan', required: true },
    { name: 'reason', type: 'textarea', label: 'Keterangan alasan', required: true, hint: 'Untuk petugas, tidak terlihat oleh pelapor. Bila tahu, sebutkan instansi yang berwenang.' },
  ],
  note: [
    { name: 'message', type: 'textarea', label: 'Catatan internal', required: true, hint: 'Hanya terlihat oleh petugas, tidak oleh pelapor.' },
  ],
  close: [
    { name: 'message', type: 'textarea', label: 'Pesan penutup untuk pelapor', required: true },
  ],
  assign: [
    { name: 'officer', type: 'officer', label: 'Petugas', required: true, hint: 'Petugas menerima pemberitahuan lewat email dan SMS. Pelapor tidak diberi tahu siapa petugasnya.' },
    { name: 'note', type: 'textarea', label: 'Catatan untuk petugas' },
  ],
  correct: [
    { name: 'type', type: 'report_type', label: 'Jenis' },
    { name: 'category', type: 'category', label: 'Kategori' },
    { name: 'kecamatan', type: 'kecamatan', label: 'Kecamatan' },
    { name: 'desa', type: 'desa', label: 'Desa/kelurahan' },
    { name: 'note', type: 'textarea', label: 'Alasan koreksi', hint: 'Untuk petugas; tidak terlihat oleh pelapor. Tenggat dihitung ulang bila bergantung pada jenis atau kategori.' },
  ],
};

function dlRows(pairs) {
  return h('dl', { class: 'props' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function auditList(report) {
  const trail = report.audit_trail || report.audit || report.events || report.timeline || [];
  if (!Array.isArray(trail) || !trail.length) return h('p', {}, 'Belum ada jejak.');
  return h('ol', { class: 'timeline' }, trail.map((ev) => {
    const from = ev.from_status;
    const to = ev.to_status || ev.status;
    return h('li', {},
      h('div', { class: 'when' }, fmtDateTime(ev.at)),
      h('div', {},
        h('span', { class: 'who' }, actorLabel(ev.actor || ev.role)),
        ev.actor_id ? h('span', { class: 'mono' }, ` (${ev.actor_id})`) : null,
        ev.action ? ` · ${EVENT_ACTION[ev.action] || ev.action}` : '',
        from && to && from !== to ? ` · ${statusLabel(from)} → ${statusLabel(to)}` : (to ? ` · ${statusLabel(to)}` : ''),
        ev.public === false ? h('span', { class: 'badge badge-gap' }, 'internal') : null),
      ev.message ? h('p', { class: 'pre' }, ev.message) : null,
      eventDetails(ev.data));
  }));
}

// What an event's data tells a person; bookkeeping (sync origin, sequence numbers, call names) is left out.
const EVENT_DATA = {
  opd_code: (v) => `OPD: ${v}`,
  category: (v) => `Kategori: ${v}`,
  classification: (v) => `Klasifikasi: ${CLASSIFICATIONS[v] || v}`,
  complaint_id: (v) => `ID SP4N-LAPOR!: ${v}`,
  revealed: (v) => `Dibuka: ${[].concat(v).map((x) => (x === 'nik' ? 'NIK' : x === 'identity' ? 'identitas' : x)).join(', ')}`,
  reason_code: (v) => `Jenis alasan: ${RETURN_REASONS[v] || v}`,
  planned_completion: (v) => `Rencana selesai: ${fmtDate(v)}`,
  asked_by: (v) => `Diminta oleh: ${v === 'opd' ? 'OPD' : 'admin'}`,
  reason: (v) => `Alasan: ${v}`,
  attachments: (v) => `${[].concat(v).length} lampiran`,
  rating: (v) => `Nilai: ${v}`,
  resolved: (v) => (v ? 'Pelapor: selesai' : 'Pelapor: belum selesai'),
  error: () => 'Pengiriman ke SP4N-LAPOR! gagal; dicoba lagi otomatis',
  from_officer: (v) => `Petugas sebelumnya: ${v}`,
  officer: (v) => `Petugas: ${v}`,
  corrections: (v) => Object.entries(v).map(([k, c]) => `${CORRECTED[k] || k}: ${c.from || '–'} → ${c.to || '–'}`).join(' · '),
  due_to: (v) => `Tenggat baru: ${fmtDateTime(v)}`,
  primary: (v) => `Laporan utama: ${v}`,
  duplicate: (v) => `Laporan serupa: ${v}`,
};
const CORRECTED = { type: 'Jenis', category: 'Kategori', kecamatan: 'Kecamatan', desa: 'Desa' };

function eventDetails(data) {
  if (!data || typeof data !== 'object') return null;
  const parts = Object.entries(data).filter(([k, v]) => EVENT_DATA[k] && v !== null && v !== '').map(([k, v]) => EVENT_DATA[k](v));
  return parts.length ? h('p', { class: 'hint' }, parts.join(' · ')) : null;
}

/** Every file of the report (the submission's, the OPD's answers, the reporter's replies). */
function reportFileIds(report) {
  const ids = [].concat(Array.isArray(report.attachments) ? report.attachments : []);
  for (const e of Array.isArray(report.audit_trail) ? report.audit_trail : []) {
    const files = e && e.data && Array.isArray(e.data.attachments) ? e.data.attachments : [];
    ids.push(...files);
  }
  return [...new Set(ids.map((a) => (a && typeof a === 'object' ? a.attachment_id || a.id : a)).filter(Boolean))];
}

/** Images as thumbnails, PDFs as a download link: each through a 5-minute staff link (access-logged). */
function staffFiles(report) {
  const ids = reportFileIds(report);
  if (!ids.length) return null;
  const list = h('ul', { class: 'thumbs', 'aria-label': 'Lampiran laporan' });
  ids.forEach(async (id, i) => {
    const item = h('li', { class: 'thumb', 'data-attachment': id }, h('span', { class: 'hint' }, `Memuat lampiran ${i + 1}…`));
    list.append(item);
    try {
      const link = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}/attachments/${encodeURIComponent(id)}`, { staff: true });
      const type = new URL(link.url).searchParams.get('response-content-type') || '';
      clear(item);
      if (type.startsWith('image/')) {
        append(item, [h('a', { href: link.url, target: '_blank', rel: 'noopener', 'aria-label': `Buka foto ${i + 1}` },
          h('img', { src: link.url, alt: `Lampiran ${i + 1}`, loading: 'lazy', class: 'thumb-img' }))]);
      } else {
        append(item, [h('a', { href: link.url, class: 'btn btn-secondary btn-small', download: '' }, `Unduh PDF ${i + 1}`)]);
      }
    } catch (err) {
      clear(item);
      append(item, [h('span', { class: 'hint' }, err instanceof ApiError && err.status === 404
        ? `Lampiran ${i + 1} tidak tersedia.` : `Lampiran ${i + 1} gagal dimuat.`)]);
    }
  });
  return [h('h3', {}, 'Lampiran'), list];
}

async function buildControl(f, report) {
  if (f.type === 'opd') {
    const sel = h('select', {});
    const items = await reference('opds').catch(() => []);
    options(sel, items.map((o) => ({ value: o.code, label: `${o.name} (${o.code})` })), { placeholder: 'Pilih OPD' });
    // Routing help: what the reporter chose or the category's default OPD.
    const suggested = report.suggested_opd || (report.status === 'diajukan' ? report.opd_code : null);
    if (f.name === 'opd_code' && suggested && report.status === 'diajukan') sel.value = suggested;
    return sel;
  }
  if (f.type === 'category') {
    const sel = h('select', {});
    const items = await reference('categories').catch(() => []);
    options(sel, items.map((c) => ({ value: c.code, label: c.name })), { placeholder: 'Tidak diubah', value: report.category || '' });
    return sel;
  }
  if (f.type === 'officer') {
    const sel = h('select', {});
    const res = await api('/staff/officers', { staff: true }).catch(() => ({ items: [] }));
    const items = Array.isArray(res && res.items) ? res.items : [];
    options(sel, items.map((o) => ({ value: o.id, label: `${o.name}${o.phone ? ` · ${o.phone}` : ''}` })),
      { placeholder: items.length ? 'Pilih petugas' : 'Belum ada petugas terdaftar', value: (report.assigned_to && report.assigned_to.id) || '' });
    return sel;
  }
  if (f.type === 'report_type') {
    const sel = h('select', {});
    options(sel, ['pengaduan', 'aspirasi', 'permintaan_informasi'].map((value) => ({ value, label: typeLabel(value) })),
      { placeholder: 'Tidak diubah', value: report.type || '' });
    return sel;
  }
  if (f.type === 'kecamatan') {
    const sel = h('select', {});
    const items = await reference('kecamatan').catch(() => []);
    const current = (report.location && report.location.kecamatan) || report.kecamatan || '';
    options(sel, items.map((k) => ({ value: k.code, label: k.name })), { placeholder: 'Tidak diubah', value: current });
    return sel;
  }
  if (f.type === 'desa') return h('select', {});
  if (f.type === 'classification') {
    const sel = h('select', {});
    options(sel, Object.entries(CLASSIFICATIONS).map(([value, label]) => ({ value, label })), { placeholder: 'Belum ditentukan', value: report.classification || '' });
    return sel;
  }
  if (f.type === 'privacy_raise') {
    const order = ['publik', 'anonim', 'rahasia'];
    const higher = order.slice(order.indexOf(report.privacy) + 1);
    const sel = h('select', {});
    options(sel, higher.map((value) => ({ value, label: privacyLabel(value) })), { placeholder: 'Tidak diubah' });
    return sel;
  }
  if (f.type === 'date') {
    const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const today = new Date();
    return h('input', { type: 'date', min: iso(today), max: iso(new Date(today.getTime() + 366 * 86400000)) });
  }
  if (f.type === 'reason_code') {
    const sel = h('select', {});
    options(sel, Object.entries(RETURN_REASONS).map(([value, label]) => ({ value, label })), { placeholder: 'Pilih alasan' });
    return sel;
  }
  if (f.type === 'textarea') return h('textarea', { rows: 4, maxlength: 4000 });
  return h('input', { type: 'text', autocomplete: 'off' });
}

// Canned answers (GET /staff/templates): picking one fills the message, which stays editable.
const CANNED_ACTIONS = ['request_info', 'reject', 'respond'];

async function cannedAnswers(action, report, form) {
  let items = [];
  try {
    const res = await api('/staff/templates', { staff: true, query: { action, category: report.category || undefined } });
    items = Array.isArray(res && res.items) ? res.items : [];
  } catch {
    return; // the form works without them
  }
  const message = form.elements.namedItem('message');
  if (!items.length || !message) return;
  const sel = h('select', {});
  options(sel, items.map((t) => ({ value: t.id, label: t.title })), { placeholder: 'Tulis sendiri' });
  sel.addEventListener('change', () => {
    const chosen = items.find((t) => t.id === sel.value);
    if (chosen) { message.value = chosen.text; message.dispatchEvent(new Event('input')); }
  });
  form.prepend(field({ label: 'Jawaban siap pakai', name: 'template', optional: true, control: sel,
    hint: 'Mengisi pesan di bawah; sesuaikan sebelum dikirim.' }));
}

/** The desa picker follows the kecamatan picker of the same form (a desa of that kecamatan only). */
async function linkDesa(form, report) {
  const kec = form.elements.namedItem('kecamatan');
  const desa = form.elements.namedItem('desa');
  if (!kec || !desa) return;
  const all = await reference('kecamatan').catch(() => []);
  const fill = () => {
    const found = all.find((k) => k.code === kec.value);
    const stored = report.location && report.location.desa;
    const sameKec = kec.value === ((report.location && report.location.kecamatan) || report.kecamatan);
    options(desa, ((found && found.desa) || []).map((d) => ({ value: d.code, label: d.name })),
      { placeholder: found ? 'Tidak diisi' : 'Pilih kecamatan dahulu', value: sameKec && stored ? stored : '' });
  };
  kec.addEventListener('change', fill);
  fill();
}

async function actionForm(action, report, onDone) {
  const spec = FORMS[action] || [];
  const submit = h('button', { type: 'submit', class: action === 'reject' ? 'btn btn-danger' : 'btn' }, ACTIONS[action].label);
  const form = h('form', { novalidate: true, 'data-action': action });
  let picker = null;
  for (const f of spec) {
    if (f.type === 'attachments') {
      picker = attachmentPicker({ name: 'attachments', label: f.label, staff: true });
      form.append(picker.element);
      continue;
    }
    const control = await buildControl(f, report);
    form.append(field({ label: f.label, name: f.name, required: f.required, optional: !f.required, hint: f.hint, control }));
  }
  if (CANNED_ACTIONS.includes(action)) await cannedAnswers(action, report, form);
  await linkDesa(form, report);
  if (action === 'accept') form.append(h('p', {}, 'Laporan akan berstatus "Sedang diproses" dan pelapor diberi tahu.'));
  form.append(h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { action };
    const missing = [];
    for (const f of spec) {
      if (f.type === 'attachments') continue;
      const v = val(form, f.name);
      if (v) body[f.name] = v;
      else if (f.required) missing.push({ field: f.name, message: `${f.label} wajib diisi.` });
    }
    if (missing.length) { showErrors(form, missing); return; }
    submit.disabled = true;
    try {
      if (picker) {
        const ids = await picker.ids();
        if (ids.length) body.attachments = ids;
      }
      const updated = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}/actions`, {
        method: 'POST', body, staff: true, ifMatch: report.version,
      });
      clearErrors(form);
      await onDone(action, updated);
    } catch (err) {
      submit.disabled = false;
      if (err instanceof ApiError && (err.code === 'version_conflict' || err.code === 'invalid_transition')) {
        showApiError(form, err, h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => onDone(null, null) }, 'Muat ulang laporan')));
      } else {
        showApiError(form, err);
      }
    }
  });
  return form;
}

const reportLink = (id) => `#/staf/laporan/${encodeURIComponent(id)}`;

/** A merged report says which one it follows; a primary lists the reports merged into it. */
function mergedNotice(report) {
  if (report.merged_into) {
    return h('div', { class: 'msg msg-warn', role: 'note', 'data-merged-into': report.merged_into },
      h('p', {}, 'Laporan ini digabungkan ke laporan ', h('a', { href: reportLink(report.merged_into), class: 'mono' }, report.merged_into),
        '. Tindak lanjut dilakukan pada laporan utama; pelapor laporan ini mengikuti perkembangannya.'));
  }
  const merged = Array.isArray(report.merged_ids) ? report.merged_ids : [];
  if (!merged.length) return null;
  return h('div', { class: 'msg msg-warn', role: 'note' },
    h('p', {}, `${merged.length} laporan serupa digabungkan ke laporan ini: `,
      ...merged.flatMap((id, i) => [i ? ', ' : '', h('a', { href: reportLink(id), class: 'mono' }, id)])));
}

/**
 * Admin, report at verification: up to five open reports that look like the same problem
 * (GET .../similar, newest first, with a score), each linked, each with a button that merges THIS
 * report into it (action `merge`, If-Match), so the OPD works one report.
 */
function similarSection(report, s, onDone) {
  if (s.role !== 'admin' || report.status !== 'diajukan' || report.merged_into
      || !(Array.isArray(report.actions) && report.actions.includes('merge'))) return null;
  const section = h('section', { class: 'card similar', 'aria-labelledby': 'sim-h' },
    h('h2', { id: 'sim-h' }, 'Laporan serupa'));
  const status = h('p', { role: 'status' }, 'Mencari laporan serupa…');
  const errSlot = h('div', {});
  section.append(status, errSlot);
  (async () => {
    let items = [];
    try {
      const res = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}/similar`, { staff: true });
      items = Array.isArray(res && res.items) ? res.items : [];
    } catch (err) {
      status.textContent = err instanceof ApiError ? err.text : 'Laporan serupa gagal dimuat.';
      return;
    }
    if (!items.length) {
      status.textContent = 'Tidak ada laporan terbuka yang serupa di kecamatan ini.';
      return;
    }
    status.textContent = `${items.length} laporan terbuka yang mungkin membahas masalah yang sama (terbaru dulu). Skor 0–100: kemiripan teks.`;
    const list = h('ul', { class: 'similar-list' });
    for (const it of items) {
      const merge = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-merge': it.tracking_id },
        'Gabungkan ke laporan ini');
      merge.addEventListener('click', async () => {
        if (!window.confirm(`Gabungkan laporan ${report.tracking_id} ke ${it.tracking_id}? Pelapornya akan mengikuti perkembangan laporan ${it.tracking_id}.`)) return;
        merge.disabled = true;
        clear(errSlot);
        try {
          const updated = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}/actions`, {
            method: 'POST', staff: true, ifMatch: report.version, body: { action: 'merge', primary: it.tracking_id },
          });
          await onDone('merge', updated);
        } catch (err) {
          merge.disabled = false;
          errSlot.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', {}, err instanceof ApiError ? err.text : 'Penggabungan gagal.')));
        }
      });
      list.append(h('li', { class: 'similar-item', 'data-similar': it.tracking_id },
        h('a', { href: reportLink(it.tracking_id), class: 'card-title' }, it.title || it.tracking_id),
        h('p', { class: 'meta' }, statusBadge(it.status),
          h('span', { class: 'badge', 'data-score': String(it.score) }, `Skor ${Math.round(it.score)}`),
          h('span', { class: 'mono' }, it.tracking_id)),
        h('p', { class: 'hint' }, [fmtDateTime(it.submitted_at),
          it.distance_m !== undefined && it.distance_m !== null ? `${Math.round(it.distance_m)} m dari lokasi ini` : null,
          it.privacy === 'rahasia' ? 'Rahasia' : null].filter(Boolean).join(' · ')),
        h('div', { class: 'actions' }, merge)));
    }
    section.append(list);
  })();
  return section;
}

function reporterSection(report, reporter, s, reveal) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'rep-h' }, h('h2', { id: 'rep-h', tabindex: '-1' }, 'Pelapor'));
  const shown = reporter && ['name', 'email', 'phone', 'nik'].some((k) => reporter[k]);
  if (shown) {
    section.append(dlRows([['Nama', reporter.name], ['Email', reporter.email], ['Nomor HP', reporter.phone], ['NIK', reporter.nik]]));
  } else if (report.reporter_hidden) {
    section.append(h('p', {}, 'Pelapor memilih Anonim: identitasnya disembunyikan.'));
  } else {
    section.append(h('p', {}, report.privacy === 'anonim' ? 'Identitas pelapor disembunyikan (anonim).' : 'Tidak ada data identitas.'));
  }
  const buttons = [];
  const slot = h('div', { class: 'reveal-slot' });
  // A reveal is never a link: a button opens a confirmation asking why, and only that POSTs.
  const ask = (what) => {
    clear(slot);
    slot.append(revealForm(what, reveal, () => clear(slot)));
    slot.querySelector('textarea').focus();
  };
  if (s.role === 'admin' && report.reporter_hidden) {
    buttons.push(h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => ask('identity') }, 'Tampilkan identitas pelapor'));
  }
  if (s.role === 'admin' && reporter && reporter.nik_on_file && !reporter.nik) {
    buttons.push(h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => ask('nik') }, 'Tampilkan NIK'));
  }
  if (buttons.length) {
    section.append(h('p', { class: 'hint' }, 'Buka hanya bila perlu untuk menangani laporan. Setiap pembukaan dicatat di jejak audit atas nama Anda, beserta alasannya.'),
      h('div', { class: 'actions' }, buttons), slot);
  }
  return section;
}

const REVEAL_REASON_MIN = 10;

function revealForm(what, reveal, cancel) {
  const id = nextId('reveal-reason');
  const error = h('p', { class: 'field-error', id: `${id}-err`, role: 'alert' });
  const reason = h('textarea', { id, name: 'reason', rows: '3', required: true, minlength: String(REVEAL_REASON_MIN), maxlength: '500', 'aria-describedby': `${id}-err` });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Tampilkan');
  const form = h('form', { class: 'card reveal-confirm', 'data-reveal': what, novalidate: true },
    h('p', {}, what === 'nik' ? 'Anda akan membuka NIK pelapor.' : 'Anda akan membuka identitas pelapor anonim.'),
    h('label', { for: id }, `Alasan (wajib, minimal ${REVEAL_REASON_MIN} karakter)`), reason, error,
    h('div', { class: 'actions' }, submit,
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: cancel }, 'Batal')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = reason.value.trim().replace(/\s+/g, ' ');
    if (text.length < REVEAL_REASON_MIN) {
      error.textContent = `Tuliskan alasan membuka data ini (minimal ${REVEAL_REASON_MIN} karakter).`;
      reason.focus();
      return;
    }
    error.textContent = '';
    submit.disabled = true;
    if (!(await reveal(what, text))) submit.disabled = false;
  });
  return form;
}

export async function render(view, { params }) {
  const id = params[0];
  const s = session();
  view.append(h('h1', {}, `Laporan ${id}`), h('p', { role: 'status' }, 'Memuat…'));
  let report;
  try {
    report = await api(`/staff/reports/${encodeURIComponent(id)}`, { staff: true });
  } catch (err) {
    clear(view);
    view.append(h('h1', {}, `Laporan ${id}`),
      h('div', { class: 'msg msg-error', role: 'alert' }, h('p', {},
        err instanceof ApiError && err.status === 404 ? 'Laporan tidak ditemukan, atau tidak dapat Anda akses.' : (err.text || 'Laporan gagal dimuat.'))),
      h('p', {}, h('a', { href: '#/staf' }, 'Kembali ke kotak masuk')));
    return;
  }
  await draw(view, report, s);
}

async function draw(view, report, s, focusSel) {
  clear(view);
  const loc = report.location || {};
  const reporter = report.reporter && typeof report.reporter === 'object' ? report.reporter : null;
  const sla = report.sla || {};
  const sp4n = report.sp4n || null;
  const [opdName, kecName, catName] = await Promise.all([
    refName('opds', report.opd_code), refName('kecamatan', loc.kecamatan || report.kecamatan), refName('categories', report.category),
  ]);

  // An admin's explicit, audited look at an anonymous reporter's identity or at the NIK: a POST
  // with the reason (the audit event keeps it), then the view again for the new audit trail.
  const reveal = async (what, reason) => {
    try {
      const shown = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}/reveal`,
        { method: 'POST', staff: true, body: { fields: [what], reason } });
      let next = report;
      try {
        next = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}`, { staff: true });
      } catch { /* the revealed data is shown on the view already read */ }
      await draw(view, { ...next, reporter: shown.reporter, reporter_hidden: false }, s, '#rep-h');
      flash('info', what === 'nik' ? 'NIK ditampilkan. Pembukaan ini tercatat di jejak audit.' : 'Identitas pelapor ditampilkan. Pembukaan ini tercatat di jejak audit.');
      return true;
    } catch (err) {
      flash('error', err instanceof ApiError ? err.text : 'Identitas gagal dibuka.');
      return false;
    }
  };

  const reload = async (action, updated) => {
    let next = updated;
    if (!next || typeof next !== 'object' || !next.tracking_id) {
      try {
        next = await api(`/staff/reports/${encodeURIComponent(report.tracking_id)}`, { staff: true });
      } catch (err) {
        flash('error', err instanceof ApiError && err.status === 404
          ? 'Laporan tidak lagi dapat Anda akses (mungkin sudah dialihkan).' : (err.text || 'Laporan gagal dimuat.'));
        return;
      }
    }
    await draw(view, next, s, '#report-h1');
    flash(action ? 'ok' : 'info', action
      ? `${ACTION_DONE[action] || 'Tindakan tersimpan.'} Status sekarang: ${statusLabel(next.status)}.`
      : `Laporan dimuat ulang. Status sekarang: ${statusLabel(next.status)}.`);
  };

  const allowed = allowedActions(report, s.role);
  const actionsSection = h('section', { 'aria-labelledby': 'act-h' }, h('h2', { id: 'act-h' }, 'Tindakan'));
  if (!allowed.length) {
    actionsSection.append(h('p', {}, s.role === 'pimpinan'
      ? 'Peran pimpinan hanya dapat membaca laporan.'
      : `Tidak ada tindakan untuk peran Anda pada status "${statusLabel(report.status)}".`));
  }
  for (const a of allowed) {
    const body = h('div', { class: 'action-body' }, await actionForm(a, report, reload));
    actionsSection.append(h('details', { class: 'action', 'data-action': a }, h('summary', {}, ACTIONS[a].label), body));
  }

  const notes = Array.isArray(report.notes) ? report.notes : [];
  append(view, [
    h('h1', { id: 'report-h1', tabindex: '-1' }, report.title || `Laporan ${report.tracking_id}`),
    h('p', { class: 'meta' }, statusBadge(report.status),
      sla.breached ? h('span', { class: 'badge badge-late' }, 'Lewat tenggat') : null,
      h('span', { class: 'mono' }, report.tracking_id)),
    h('div', { class: 'actions' },
      h('a', { class: 'btn btn-secondary btn-small', href: '#/staf' }, 'Kembali ke kotak masuk'),
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => reload(null, null) }, 'Muat ulang')),
    mergedNotice(report),
    h('section', { class: 'card', 'aria-labelledby': 'det-h' },
      h('h2', { id: 'det-h' }, 'Rincian'),
      dlRows([
        ['Jenis', typeLabel(report.type)],
        ['Klasifikasi', report.classification ? (CLASSIFICATIONS[report.classification] || report.classification) : 'Belum ditentukan'],
        ['Kategori', catName || 'Belum ditentukan'],
        ['OPD', report.opd_code ? `${opdName} (${report.opd_code})` : 'Belum diteruskan'],
        ['Petugas', report.assigned_to ? (report.assigned_to.name || report.assigned_to.id) : (report.opd_code ? 'Belum ditugaskan' : null)],
        ['Kerahasiaan', privacyLabel(report.privacy)],
        ['Masuk', fmtDateTime(report.created_at)],
        ['Saluran', channelLabel(report.channel)],
        ['Tanggal kejadian', report.incident_date ? fmtDate(report.incident_date) : null],
        ['Kecamatan', kecName || null],
        ['Desa/kelurahan', loc.desa_name ? `${loc.desa_name} (${loc.desa})` : loc.desa || null],
        ['Alamat', loc.address || null],
        ['Posisi', loc.lat !== undefined && loc.lat !== null ? `${loc.lat}, ${loc.lon}` : null],
      ]),
      hasPoint(loc) ? pointMap(Number(loc.lat), Number(loc.lon), `${loc.lat}, ${loc.lon}`) : null,
      h('h3', {}, 'Uraian'),
      h('p', { class: 'pre' }, report.description || '–'),
      staffFiles(report)),
    h('section', { class: 'card', 'aria-labelledby': 'sla-h' },
      h('h2', { id: 'sla-h' }, 'Tenggat dan sinkronisasi'),
      dlRows([
        ['Tahap', SLA_STAGE[sla.stage] || sla.stage || '–'],
        ['Tenggat', fmtDateTime(sla.due_at || report.due_at)],
        ['Lewat tenggat', sla.breached ? 'Ya' : 'Tidak'],
        ['SP4N-LAPOR!', sp4n ? `${sp4nState(sp4n.state)}${sp4n.complaint_id ? ` · ID ${sp4n.complaint_id}` : ''}${sp4n.attempts ? ` · ${sp4n.attempts} percobaan` : ''}` : '–'],
      ])),
    reporterSection(report, reporter, s, reveal),
    similarSection(report, s, reload),
    actionsSection,
    notes.length ? h('section', { 'aria-labelledby': 'notes-h' }, h('h2', { id: 'notes-h' }, 'Catatan internal'),
      h('ul', {}, notes.map((n) => h('li', {}, typeof n === 'string' ? n
        : [fmtDateTime(n.at), ' · ', actorLabel(n.actor || n.role),
          n.action && n.action !== 'note' ? ` (${EVENT_ACTION[n.action] || n.action})` : '', ': ', n.message || ''])))) : null,
    h('section', { 'aria-labelledby': 'audit-h' }, h('h2', { id: 'audit-h' }, 'Jejak audit'), auditList(report)),
  ]);
  if (focusSel) {
    const el = view.querySelector(focusSel);
    if (el) el.focus();
  }
}
