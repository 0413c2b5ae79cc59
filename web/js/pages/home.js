// Beranda: what the service is and where to go.
import { h } from '../dom.js';

export const title = 'Beranda';

export function render(view) {
  view.append(
    h('h1', {}, 'Lapor KBB'),
    h('p', {}, 'Sampaikan pengaduan, aspirasi, atau permintaan informasi tentang pelayanan publik di '
      + 'Kabupaten Bandung Barat. Laporan diverifikasi oleh Diskominfotik, diteruskan ke perangkat daerah '
      + '(OPD) yang berwenang, dan dapat Anda pantau sampai selesai.'),
    h('div', { class: 'home-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'home-lapor' },
        h('h2', { id: 'home-lapor' }, 'Buat laporan'),
        h('p', {}, 'Isi formulir singkat. Anda boleh melapor secara anonim atau rahasia.'),
        h('a', { class: 'btn', href: '#/lapor' }, 'Buat laporan')),
      h('section', { class: 'card', 'aria-labelledby': 'home-lacak' },
        h('h2', { id: 'home-lacak' }, 'Lacak laporan'),
        h('p', {}, 'Gunakan nomor laporan dan kode akses yang Anda terima saat melapor.'),
        h('a', { class: 'btn btn-secondary', href: '#/lacak' }, 'Lacak laporan')),
      h('section', { class: 'card', 'aria-labelledby': 'home-stat' },
        h('h2', { id: 'home-stat' }, 'Statistik'),
        h('p', {}, 'Jumlah laporan per status, kategori, kecamatan, dan kecepatan tanggapan OPD.'),
        h('a', { class: 'btn btn-secondary', href: '#/statistik' }, 'Lihat statistik'))),
    h('h2', {}, 'Alurnya'),
    h('ol', {},
      h('li', {}, 'Anda mengirim laporan dan menerima nomor laporan serta kode akses.'),
      h('li', {}, 'Admin Diskominfotik memverifikasi paling lambat 3 hari kerja, lalu meneruskannya ke OPD.'),
      h('li', {}, 'OPD menanggapi dan menindaklanjuti. Anda dapat membalas, memberi nilai, atau membuka kembali laporan.'),
      h('li', {}, 'Laporan juga tercatat di SP4N-LAPOR! nasional.')),
  );
}
