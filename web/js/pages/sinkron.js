// Sinkronisasi SP4N-LAPOR! (admin): failed and diverged syncs from GET /staff/sync/problems, each
// with a retry (POST /staff/sync/{tracking_id}/retry). See docs/SP4N.md.
import { h, clear, fmtDateTime } from '../dom.js';
import { api, ApiError } from '../api.js';
import { table } from '../chart.js';
import { session } from '../auth.js';

export const title = 'Sinkronisasi SP4N-LAPOR!';

const KIND = { failed: 'Gagal terkirim', diverged: 'Status tidak sejalan', privacy: 'Kerahasiaan perlu diubah manual' };

export async function render(view) {
  const s = session();
  view.append(h('h1', {}, title));
  if (!s || s.role !== 'admin') {
    view.append(h('div', { class: 'msg msg-warn' }, h('p', {}, 'Halaman ini hanya untuk admin Diskominfotik.')));
    return;
  }
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const result = h('div', {});
  view.append(h('p', {}, 'Laporan yang gagal dikirim ke SP4N-LAPOR! atau statusnya berbeda di sana. '
    + 'Selesaikan perbedaan di salah satu sisi, lalu coba lagi.'), status, result);

  async function retry(button, tid) {
    button.disabled = true;
    status.textContent = `Mencoba lagi ${tid}…`;
    try {
      const out = await api(`/staff/sync/${encodeURIComponent(tid)}/retry`, { staff: true, method: 'POST' });
      status.textContent = out && out.problem === null ? `${tid} sudah sejalan dengan SP4N-LAPOR!.`
        : `${tid} masih bermasalah${out && out.error ? `: ${out.error}` : '.'}`;
    } catch (err) {
      status.textContent = `Gagal mencoba lagi ${tid}. ${err instanceof ApiError ? err.text : ''}`;
    }
    await load();
  }

  async function load() {
    clear(result);
    result.append(h('p', {}, 'Memuat…'));
    try {
      const data = await api('/staff/sync/problems', { staff: true });
      const items = Array.isArray(data && data.items) ? data.items : [];
      clear(result);
      if (!items.length) {
        result.append(h('p', {}, 'Tidak ada sinkronisasi yang gagal atau tidak sejalan.'));
        return;
      }
      const columns = [
        { key: 'tracking_id', label: 'Nomor laporan', get: (r) => h('a', { href: `#/staf/laporan/${r.tracking_id}` }, r.tracking_id) },
        { key: 'kind', label: 'Masalah', get: (r) => KIND[r.kind] || r.kind },
        { key: 'status', label: 'Status di sini' },
        { key: 'lapor', label: 'SP4N-LAPOR!', get: (r) => `${r.sp4n.complaint_id || '–'} ${r.sp4n.lapor_status || ''}`.trim() },
        { key: 'why', label: 'Keterangan', get: (r) => r.sp4n.problem || r.sp4n.last_error
          || (r.sp4n.privacy_divergence ? `Ubah kerahasiaan aduan di SP4N-LAPOR! menjadi ${r.sp4n.privacy_divergence}, lalu Coba lagi.` : '–') },
        { key: 'updated_at', label: 'Diperbarui', get: (r) => fmtDateTime(r.updated_at) },
        { key: 'retry', label: 'Tindakan', get: (r) => {
          const b = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Coba lagi');
          b.addEventListener('click', () => retry(b, r.tracking_id));
          return b;
        } },
      ];
      result.append(table({ caption: 'Sinkronisasi bermasalah', columns, rows: items,
        rowAttrs: (r) => ({ 'data-tracking-id': r.tracking_id }) }));
    } catch (err) {
      clear(result);
      result.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', {},
        err instanceof ApiError ? err.text : 'Daftar sinkronisasi gagal dimuat.')));
    }
  }

  await load();
}
