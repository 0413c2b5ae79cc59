// Kotak masuk staf: work lists by role from GET /staff/reports?status=...
// Overdue and due-soon are worked out here from the SLA fields of the list items.
import { h, clear, fmtDateTime } from '../dom.js';
import { api, refName, ApiError } from '../api.js';
import { session } from '../auth.js';
import { field, val, options, showErrors } from '../forms.js';
import { CHANNELS, channelLabel, statusBadge, typeLabel, ROLE_LABEL } from '../labels.js';

export const title = 'Kotak masuk';

const DUE_SOON_MS = 24 * 3600 * 1000;
const HELD = ['didisposisikan', 'diproses', 'perlu_kelengkapan', 'ditindaklanjuti'];

function breached(it, now = Date.now()) {
  if (it.sla && typeof it.sla.breached === 'boolean') return it.sla.breached;
  if (typeof it.sla_breached === 'boolean') return it.sla_breached;
  const due = (it.sla && it.sla.due_at) || it.due_at;
  return Boolean(due) && new Date(due).getTime() < now;
}

function dueSoon(it, now = Date.now()) {
  const due = (it.sla && it.sla.due_at) || it.due_at;
  if (!due || breached(it, now)) return false;
  return new Date(due).getTime() - now <= DUE_SOON_MS;
}

// Tabs per role: statuses to list, and an optional client-side filter.
const TABS = {
  admin: [
    { id: 'verifikasi', label: 'Perlu verifikasi', statuses: ['diajukan'], empty: 'Tidak ada laporan yang menunggu verifikasi.' },
    { id: 'dikembalikan', label: 'Dikembalikan OPD', statuses: ['dikembalikan'], empty: 'Tidak ada laporan yang dikembalikan OPD.' },
    { id: 'terlambat', label: 'Lewat tenggat', statuses: ['diajukan', 'dikembalikan', 'didisposisikan', 'diproses'], filter: breached, empty: 'Tidak ada laporan yang lewat tenggat.' },
    { id: 'kelengkapan', label: 'Menunggu pelapor', statuses: ['perlu_kelengkapan'], empty: 'Tidak ada laporan yang menunggu kelengkapan dari pelapor.' },
  ],
  opd: [
    { id: 'baru', label: 'Diteruskan ke kami', statuses: ['didisposisikan'], empty: 'Tidak ada laporan baru.' },
    { id: 'diproses', label: 'Sedang diproses', statuses: ['diproses'], empty: 'Tidak ada laporan yang sedang diproses.' },
    { id: 'segera', label: 'Segera jatuh tempo', statuses: ['didisposisikan', 'diproses'], filter: dueSoon, empty: 'Tidak ada laporan yang jatuh tempo dalam 24 jam.' },
    { id: 'terlambat', label: 'Lewat tenggat', statuses: ['didisposisikan', 'diproses'], filter: breached, empty: 'Tidak ada laporan yang lewat tenggat.' },
    // Reports the OPD's coordinator assigned to the signed-in officer (GET /staff/reports?assigned=me).
    { id: 'tugas-saya', label: 'Tugas saya', statuses: HELD, assigned: 'me', empty: 'Tidak ada laporan yang ditugaskan kepada Anda.' },
  ],
  pimpinan: [
    { id: 'terlambat', label: 'Lewat tenggat', statuses: ['diajukan', 'dikembalikan', 'didisposisikan', 'diproses'], filter: breached, empty: 'Tidak ada laporan yang lewat tenggat.' },
    { id: 'didisposisikan', label: 'Di OPD', statuses: ['didisposisikan', 'diproses'], empty: 'Tidak ada laporan di OPD.' },
    { id: 'selesai', label: 'Selesai', statuses: ['selesai'], empty: 'Belum ada laporan selesai.' },
  ],
};

// The coordinator of an OPD's desk sees the OPD's lists (and assigns from a report's page).
TABS.opd_admin = TABS.opd;

const PAGE = 50;
const MAX_PAGES_FILTERED = 10;

/** One status list, following cursors. For filtered tabs, all pages (bounded). */
async function fetchStatus(status, cursor, all, channel, assigned) {
  const items = [];
  let next = cursor;
  let pages = 0;
  do {
    const res = await api('/staff/reports', { staff: true, query: { status, channel, assigned, limit: PAGE, cursor: next } });
    items.push(...(res && Array.isArray(res.items) ? res.items : []));
    next = res ? res.next_cursor : null;
    pages += 1;
  } while (all && next && pages < MAX_PAGES_FILTERED);
  return { items, next };
}

async function card(it) {
  const late = breached(it);
  const due = (it.sla && it.sla.due_at) || it.due_at;
  const opd = it.opd_name || (it.opd_code ? await refName('opds', it.opd_code) : '');
  const kec = it.kecamatan_name || (it.location && it.location.kecamatan) || it.kecamatan;
  return h('li', { class: 'card' },
    h('a', { class: 'card-title', href: `#/staf/laporan/${encodeURIComponent(it.tracking_id)}` }, it.title || it.tracking_id),
    h('p', { class: 'meta' },
      statusBadge(it.status),
      late ? h('span', { class: 'badge badge-late' }, 'Lewat tenggat') : null,
      it.merged_into ? h('span', { class: 'badge', title: `Digabungkan ke ${it.merged_into}` }, 'Digabungkan') : null,
      h('span', { class: 'mono' }, it.tracking_id),
      it.type ? h('span', {}, typeLabel(it.type)) : null,
      it.channel && it.channel !== 'web' ? h('span', {}, channelLabel(it.channel)) : null),
    h('p', { class: 'meta' },
      kec ? h('span', {}, `Kec. ${await refName('kecamatan', kec)}`) : null,
      opd ? h('span', {}, `OPD: ${opd}`) : null,
      it.assigned_to ? h('span', { class: 'assignee' }, `Petugas: ${it.assigned_to.name || it.assigned_to.id}`) : null,
      it.created_at ? h('span', {}, `Masuk ${fmtDateTime(it.created_at)}`) : null,
      due ? h('span', {}, `Tenggat ${fmtDateTime(due)}`) : null));
}

export async function render(view, { query, navigate }) {
  const s = session();
  const tabs = TABS[s.role] || [];
  const tab = tabs.find((t) => t.id === query.get('tab')) || tabs[0];
  const channel = CHANNELS[query.get('channel')] ? query.get('channel') : '';

  const openForm = h('form', { novalidate: true, class: 'card', role: 'search', 'aria-label': 'Buka laporan' },
    field({ label: 'Buka laporan berdasarkan nomor', name: 'tracking_id', attrs: { autocomplete: 'off', spellcheck: 'false' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Buka')));
  openForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = val(openForm, 'tracking_id');
    if (!id) { showErrors(openForm, [{ field: 'tracking_id', message: 'Isi nomor laporan.' }]); return; }
    navigate(`#/staf/laporan/${encodeURIComponent(id)}`);
  });

  view.append(
    h('h1', {}, 'Kotak masuk'),
    h('p', {}, 'Masuk sebagai ', h('strong', {}, ROLE_LABEL[s.role] || s.role), s.opd ? ` · ${s.opd}` : '', '.'));
  if (!tab) {
    view.append(h('div', { class: 'msg msg-warn' }, h('p', {}, 'Peran ini tidak memiliki kotak masuk.')));
    return;
  }
  const channelSelect = h('select', {});
  options(channelSelect, Object.entries(CHANNELS).map(([value, label]) => ({ value, label })),
    { placeholder: 'Semua saluran', value: channel });
  channelSelect.addEventListener('change', () => {
    const q = new URLSearchParams({ tab: tab.id, ...(channelSelect.value ? { channel: channelSelect.value } : {}) });
    navigate(`#/staf?${q}`);
  });
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Saring daftar' },
    field({ label: 'Saluran', name: 'channel', control: channelSelect }));
  const list = h('ul', { class: 'cards', 'aria-labelledby': 'inbox-h' });
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const more = h('div', { class: 'actions' });
  view.append(
    h('nav', { 'aria-label': 'Daftar kerja' },
      h('ul', { class: 'tabs' }, tabs.map((t) => h('li', {},
        h('a', { href: `#/staf?tab=${t.id}`, 'aria-current': t === tab ? 'page' : null }, t.label))))),
    h('h2', { id: 'inbox-h' }, tab.label),
    filters, status, list, more, openForm);

  status.textContent = 'Memuat…';
  const cursors = Object.fromEntries(tab.statuses.map((st) => [st, undefined]));
  let shown = 0;

  async function loadMore() {
    clear(more);
    try {
      const results = await Promise.all(Object.entries(cursors)
        .filter(([, c]) => c !== null)
        .map(async ([st, c]) => [st, await fetchStatus(st, c, Boolean(tab.filter), channel || undefined, tab.assigned)]));
      let items = [];
      for (const [st, r] of results) {
        items.push(...r.items);
        cursors[st] = r.next || null;
      }
      if (tab.filter) items = items.filter((it) => tab.filter(it));
      items.sort((a, b) => String((a.sla && a.sla.due_at) || a.due_at || a.created_at || '')
        .localeCompare(String((b.sla && b.sla.due_at) || b.due_at || b.created_at || '')));
      for (const it of items) list.append(await card(it));
      shown += items.length;
      status.textContent = shown ? `${shown} laporan.` : tab.empty;
      if (Object.values(cursors).some((c) => c)) {
        more.append(h('button', { type: 'button', class: 'btn btn-secondary', onclick: loadMore }, 'Muat lebih banyak'));
      }
    } catch (err) {
      status.textContent = '';
      clear(status);
      status.append(h('div', { class: 'msg msg-error' }, h('p', {}, err instanceof ApiError ? err.text : 'Daftar gagal dimuat.')));
    }
  }
  await loadMore();
}
