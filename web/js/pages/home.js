// Beranda: who runs the service, how to reach a person, what happens to a report, common questions.
import { h, flash } from '../dom.js';
import { settings } from '../settings.js';
import { wipeDevice, listDrafts, savedStatuses } from '../device.js';

export const title = 'Beranda';

// The service desk of Diskominfotik; config.js may override it (`helpline`).
const HELPLINE = {
  office: 'Dinas Komunikasi, Informatika dan Statistik (Diskominfotik) Kabupaten Bandung Barat',
  address: 'Kompleks Perkantoran Pemkab Bandung Barat, Jl. Raya Padalarang–Cisarua Km 2, Ngamprah, Kabupaten Bandung Barat',
  phone: '+62 812-0000-9999',
  email: 'pengaduan@diskominfotik.bandungbaratkab.go.id',
  hours: 'Senin–Jumat, 08.00–16.00 WIB (kecuali hari libur)',
};

const FAQ = [
  ['Siapa yang boleh melapor?', 'Siapa saja yang mengalami atau melihat masalah pelayanan publik di Kabupaten Bandung Barat, tanpa perlu akun.'],
  ['Apakah identitas saya aman?', 'Pilih Anonim agar identitas Anda tidak terlihat oleh OPD dan masyarakat, atau Rahasia agar seluruh laporan hanya dibaca admin dan OPD yang ditugaskan. NIK disimpan terenkripsi dan tidak pernah diperlihatkan kepada OPD.'],
  ['Berapa lama laporan ditanggapi?', 'Admin memverifikasi paling lambat 3 hari kerja. Setelah itu OPD menanggapi dalam batas waktu yang terlihat di halaman Lacak.'],
  ['Saya tidak punya sinyal. Bagaimana?', 'Tulis laporan seperti biasa. Laporan disimpan di ponsel ini (tanpa NIK) dan dikirim satu kali saat sinyal kembali. Buka lagi Lapor KBB bila halaman sempat ditutup.'],
  ['Saya lupa kode akses.', 'Kode akses hanya ditampilkan sekali dan tidak dapat dikirim ulang. Hubungi layanan pengaduan di bawah dengan nomor laporan Anda.'],
  ['Apakah laporan juga masuk SP4N-LAPOR!?', 'Ya. Setiap laporan dicatat juga di SP4N-LAPOR! nasional, sesuai kerahasiaan yang Anda pilih.'],
  ['Keadaan darurat?', 'Untuk kebakaran, kecelakaan, atau bencana yang sedang terjadi, hubungi 112. Lapor KBB bukan layanan darurat.'],
];

function deviceSection() {
  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'hint' });
  const kept = h('p', {}, 'Memeriksa data yang tersimpan…');
  Promise.all([listDrafts().catch(() => []), savedStatuses()]).then(([drafts, statuses]) => {
    kept.textContent = drafts.length || statuses.length
      ? `Tersimpan di perangkat ini: ${drafts.length} draf laporan, ${statuses.length} status laporan yang pernah dilacak.`
      : 'Tidak ada draf atau status laporan yang tersimpan di perangkat ini.';
  });
  return h('section', { class: 'card', 'aria-labelledby': 'home-device' },
    h('h2', { id: 'home-device' }, 'Data di perangkat ini'),
    kept,
    h('p', {}, 'Memakai ponsel bersama? Hapus draf, status laporan, dan sesi petugas dari perangkat ini.'),
    h('button', {
      type: 'button', class: 'btn btn-secondary',
      onclick: async () => {
        // eslint-disable-next-line no-alert
        if (!window.confirm('Hapus semua data Lapor KBB di perangkat ini, termasuk draf yang belum terkirim?')) return;
        await wipeDevice();
        kept.textContent = 'Tidak ada draf atau status laporan yang tersimpan di perangkat ini.';
        status.textContent = 'Data di perangkat ini sudah dihapus.';
        flash('ok', 'Data di perangkat ini sudah dihapus.');
      },
    }, 'Hapus data di perangkat ini'),
    status);
}

export function render(view) {
  const contact = { ...HELPLINE, ...(settings().helpline || {}) };
  const tel = contact.phone.replace(/[^+\d]/g, '');
  view.append(
    h('p', { class: 'identity' }, 'Pemerintah Kabupaten Bandung Barat'),
    h('h1', {}, 'Lapor KBB'),
    h('p', { class: 'lead' }, 'Sampaikan pengaduan, aspirasi, atau permintaan informasi tentang pelayanan publik di '
      + 'Kabupaten Bandung Barat. Laporan diverifikasi Diskominfotik, diteruskan ke perangkat daerah (OPD) '
      + 'yang berwenang, dan dapat Anda pantau sampai selesai.'),
    h('div', { class: 'home-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'home-lapor' },
        h('h2', { id: 'home-lapor' }, 'Buat laporan'),
        h('p', {}, 'Isi formulir singkat, juga tanpa sinyal. Boleh anonim atau rahasia.'),
        h('a', { class: 'btn', href: '#/lapor' }, 'Buat laporan')),
      h('section', { class: 'card', 'aria-labelledby': 'home-lacak' },
        h('h2', { id: 'home-lacak' }, 'Lacak laporan'),
        h('p', {}, 'Pakai nomor laporan dan kode akses yang Anda terima saat melapor.'),
        h('a', { class: 'btn btn-secondary', href: '#/lacak' }, 'Lacak laporan')),
      h('section', { class: 'card', 'aria-labelledby': 'home-stat' },
        h('h2', { id: 'home-stat' }, 'Statistik'),
        h('p', {}, 'Jumlah laporan per status, kategori, kecamatan, dan kecepatan tanggapan OPD.'),
        h('a', { class: 'btn btn-secondary', href: '#/statistik' }, 'Lihat statistik'))),
    h('section', { 'aria-labelledby': 'home-alur' },
      h('h2', { id: 'home-alur' }, 'Alurnya'),
      h('ol', {},
        h('li', {}, 'Anda mengirim laporan dan menerima nomor laporan serta kode akses.'),
        h('li', {}, 'Admin Diskominfotik memverifikasi paling lambat 3 hari kerja, lalu meneruskannya ke OPD.'),
        h('li', {}, 'OPD menanggapi dan menindaklanjuti. Anda dapat membalas, memberi nilai, atau membuka kembali laporan.'),
        h('li', {}, 'Laporan juga tercatat di SP4N-LAPOR! nasional.'))),
    h('section', { class: 'card', 'aria-labelledby': 'home-kontak' },
      h('h2', { id: 'home-kontak' }, 'Layanan pengaduan'),
      h('p', {}, contact.office),
      h('dl', { class: 'props' },
        h('dt', {}, 'Telepon/WhatsApp'), h('dd', {}, h('a', { href: `tel:${tel}` }, contact.phone)),
        h('dt', {}, 'Email'), h('dd', {}, h('a', { href: `mailto:${contact.email}` }, contact.email)),
        h('dt', {}, 'Jam layanan'), h('dd', {}, contact.hours),
        h('dt', {}, 'Alamat'), h('dd', {}, contact.address))),
    h('section', { 'aria-labelledby': 'home-faq' },
      h('h2', { id: 'home-faq' }, 'Pertanyaan umum'),
      FAQ.map(([q, a]) => h('details', { class: 'faq' }, h('summary', {}, q), h('p', {}, a)))),
    deviceSection(),
  );
}
