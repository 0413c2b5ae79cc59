// Indonesian labels for the contract's vocabulary, and the action table of the contract.
import { h } from './dom.js';

export const TYPES = {
  pengaduan: { label: 'Pengaduan', desc: 'Keluhan tentang pelayanan publik.' },
  aspirasi: { label: 'Aspirasi', desc: 'Usulan atau saran perbaikan.' },
  permintaan_informasi: { label: 'Permintaan informasi', desc: 'Pertanyaan atau permintaan data publik.' },
};

export const PRIVACY = {
  publik: {
    label: 'Publik',
    desc: 'Isi laporan boleh tampil untuk umum. Nama dan kontak hanya dilihat petugas; NIK tidak pernah '
      + 'diperlihatkan kepada OPD.',
  },
  anonim: {
    label: 'Anonim',
    desc: 'Identitas disembunyikan dari OPD dan masyarakat; hanya admin Diskominfotik yang melihatnya. '
      + 'Tanpa kontak, pantau sendiri lewat halaman Lacak.',
  },
  rahasia: {
    label: 'Rahasia',
    desc: 'Seluruh laporan tertutup untuk umum; hanya admin dan OPD yang ditugaskan yang membacanya. '
      + 'Untuk soal kesehatan, anak, atau bantuan sosial.',
  },
};

export const STATUS = {
  diajukan: { label: 'Diajukan', desc: 'Laporan diterima dan menunggu verifikasi oleh admin Diskominfotik.' },
  perlu_kelengkapan: { label: 'Perlu kelengkapan', desc: 'Petugas (admin atau OPD) meminta keterangan tambahan dari Anda. Balas melalui formulir di bawah.' },
  didisposisikan: { label: 'Diteruskan ke OPD', desc: 'Laporan sudah diverifikasi dan diteruskan ke perangkat daerah yang berwenang.' },
  diproses: { label: 'Sedang diproses', desc: 'Perangkat daerah sedang menindaklanjuti laporan.' },
  ditindaklanjuti: { label: 'Sudah ditanggapi', desc: 'Perangkat daerah sudah memberi tanggapan. Beri tahu kami apakah masalah Anda selesai.' },
  dikembalikan: { label: 'Dikembalikan OPD', desc: 'OPD menyatakan bukan wewenangnya; admin akan meneruskannya ke OPD lain.' },
  ditolak: { label: 'Ditolak', desc: 'Laporan tidak dapat diproses. Lihat alasan pada riwayat.' },
  selesai: { label: 'Selesai', desc: 'Laporan sudah ditutup.' },
};
export const OPEN_STATUSES = ['diajukan', 'perlu_kelengkapan', 'didisposisikan', 'diproses', 'ditindaklanjuti', 'dikembalikan'];

export const ACTORS = {
  pelapor: 'Pelapor',
  admin: 'Admin Diskominfotik',
  opd: 'Perangkat daerah (OPD)',
  sistem: 'Sistem',
  pimpinan: 'Pimpinan',
};

export const ROLE_LABEL = {
  admin: 'Admin Diskominfotik',
  opd: 'Petugas OPD',
  opd_admin: 'Koordinator pengaduan OPD',
  pimpinan: 'Pimpinan (hanya baca)',
};

// Why an OPD hands a report back (the server's list; an unknown code is a 400).
export const RETURN_REASONS = {
  bukan_wewenang: 'Bukan wewenang OPD ini',
  kewenangan_pusat_provinsi: 'Kewenangan pemerintah pusat atau provinsi',
  data_kurang: 'Data laporan kurang',
  duplikat: 'Duplikat laporan lain',
  lainnya: 'Lainnya',
};

export const CLASSIFICATIONS = {
  berkadar_pengawasan: 'Berkadar pengawasan (penyalahgunaan wewenang, ke Inspektorat)',
  tidak_berkadar_pengawasan: 'Tidak berkadar pengawasan',
};

export const SLA_STAGE = {
  verifikasi: 'Verifikasi admin',
  respon_opd: 'Tanggapan pertama OPD',
  tindak_lanjut: 'Tindak lanjut OPD',
  konfirmasi: 'Menunggu konfirmasi pelapor',
  kelengkapan: 'Menunggu kelengkapan dari pelapor',
};

const SP4N_STATE = { pending: 'Menunggu kirim', synced: 'Tersinkron', failed: 'Gagal (akan dicoba lagi)' };
export function sp4nState(s) { return SP4N_STATE[s] || s || '–'; }

/**
 * The contract's action table: who may do what from which status. The server decides; this only
 * chooses which buttons to show. A staff view that carries `allowed_actions` overrides it.
 */
export const ACTIONS = {
  verify: { label: 'Verifikasi dan teruskan ke OPD', roles: ['admin'], from: ['diajukan'] },
  request_info: { label: 'Minta kelengkapan ke pelapor', roles: ['admin', 'opd'], from: ['diajukan', 'diproses'] },
  reject: { label: 'Tolak laporan', roles: ['admin'], from: ['diajukan', 'perlu_kelengkapan'] },
  redispose: { label: 'Alihkan ke OPD lain', roles: ['admin'], from: ['didisposisikan', 'diproses', 'dikembalikan'] },
  accept: { label: 'Terima dan mulai proses', roles: ['opd'], from: ['didisposisikan'] },
  respond: { label: 'Kirim tanggapan (tindak lanjut)', roles: ['opd'], from: ['didisposisikan', 'diproses'] },
  progress: { label: 'Kirim kabar perkembangan', roles: ['opd'], from: ['didisposisikan', 'diproses'] },
  return: { label: 'Kembalikan: bukan wewenang kami', roles: ['opd'], from: ['didisposisikan', 'diproses'] },
  note: { label: 'Tambah catatan internal', roles: ['admin', 'opd'], from: null },
  close: { label: 'Tutup laporan (selesai)', roles: ['admin'], from: OPEN_STATUSES },
  assign: { label: 'Tugaskan ke petugas', roles: ['opd_admin'], from: ['didisposisikan', 'diproses', 'perlu_kelengkapan', 'ditindaklanjuti'] },
  correct: { label: 'Koreksi data', roles: ['admin'], from: OPEN_STATUSES },
};

export const ACTION_DONE = {
  verify: 'Laporan diverifikasi dan diteruskan.',
  request_info: 'Permintaan kelengkapan dikirim ke pelapor.',
  reject: 'Laporan ditolak.',
  redispose: 'Laporan dialihkan ke OPD lain.',
  accept: 'Laporan diterima dan sedang diproses.',
  respond: 'Tanggapan dikirim ke pelapor.',
  progress: 'Kabar perkembangan dikirim ke pelapor; laporan tetap diproses.',
  return: 'Laporan dikembalikan ke admin.',
  note: 'Catatan internal disimpan.',
  close: 'Laporan ditutup.',
  assign: 'Laporan ditugaskan; petugas diberi tahu lewat email/SMS.',
  correct: 'Data laporan dikoreksi.',
  merge: 'Laporan digabungkan ke laporan utama; pelapornya mengikuti perkembangan laporan utama.',
};

export const EVENT_ACTION = {
  submit: 'Laporan dikirim', verify: 'Verifikasi', request_info: 'Minta kelengkapan', reject: 'Tolak',
  redispose: 'Alihkan', accept: 'Terima', respond: 'Tanggapan', progress: 'Perkembangan', return: 'Kembalikan', note: 'Catatan internal',
  close: 'Tutup', reply: 'Balasan pelapor', feedback: 'Umpan balik pelapor', auto_close: 'Tutup otomatis',
  archive: 'Arsip', sla_reminder: 'Pengingat tenggat', sla_breach: 'Lewat tenggat', sp4n_synced: 'Tersinkron ke SP4N-LAPOR!',
  identity_viewed: 'Identitas pelapor dibuka', sp4n_failed: 'Sinkron ke SP4N-LAPOR! gagal',
  sp4n_status: 'Status dari SP4N-LAPOR!', sp4n_followup: 'Tindak lanjut dari SP4N-LAPOR!',
  access_recovery: 'Kode pemulihan dikirim ke pelapor', access_reissued: 'Kode akses pelapor diganti',
  assign: 'Penugasan petugas', correct: 'Koreksi data',
  merge: 'Digabungkan ke laporan utama', merge_received: 'Laporan serupa digabungkan ke sini',
  sp4n_mirrored: 'Tindak lanjut laporan utama dikirim ke SP4N-LAPOR!',
};

export function allowedActions(report, role) {
  // The staff view lists what the caller may do now (`actions`); the table is the fallback.
  const listed = Array.isArray(report.actions) ? report.actions : report.allowed_actions;
  if (Array.isArray(listed)) return listed.filter((a) => ACTIONS[a]);
  return Object.entries(ACTIONS)
    // An opd_admin may do all an OPD officer may, plus assign.
    .filter(([, a]) => (a.roles.includes(role) || (role === 'opd_admin' && a.roles.includes('opd')))
      && (a.from === null || a.from.includes(report.status)))
    .map(([k]) => k);
}

export function statusLabel(s) { return (STATUS[s] && STATUS[s].label) || s || '–'; }

export function statusBadge(s) {
  return h('span', { class: `badge badge-${String(s || '').replace(/[^a-z_]/g, '')}` }, statusLabel(s));
}

// How a report came in (the API's `channel`).
export const CHANNELS = {
  web: 'Situs web', whatsapp: 'WhatsApp', sms: 'SMS', walk_in: 'Datang langsung', phone: 'Telepon',
  letter: 'Surat', social_media: 'Media sosial', sp4n: 'SP4N-LAPOR!', open311: 'Aplikasi mitra (Open311)',
};
// What the desk can enter for a citizen (POST /staff/reports).
export const STAFF_CHANNELS = ['walk_in', 'phone', 'letter', 'social_media', 'whatsapp', 'sms'];
export function channelLabel(c) { return CHANNELS[c] || c || '–'; }

export function typeLabel(t) { return (TYPES[t] && TYPES[t].label) || t || '–'; }
export function privacyLabel(p) { return (PRIVACY[p] && PRIVACY[p].label) || p || '–'; }
export function actorLabel(a) { return ACTORS[a] || a || '–'; }
