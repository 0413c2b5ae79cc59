// Where a point falls in Kabupaten Bandung Barat: the nearest kecamatan centre, and whether the
// point is in the regency at all. The centres (web/data/kecamatan.json) are approximate points
// of each kecamatan's settled area and of the neighbours across the border, shipped with the
// client; boundaries are not, so the border is where a neighbour's centre becomes the nearer one.
import { h } from './dom.js';

export const MAX_KM = 12;
let cache = null;

export function kecamatanCentres() {
  if (!cache) {
    cache = fetch(new URL('../data/kecamatan.json', import.meta.url))
      .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.json(); })
      .catch((e) => { cache = null; throw e; });
  }
  return cache;
}

/** Great-circle distance in km. */
export function distanceKm(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.sqrt(s));
}

/**
 * {code, name, km, inside}: the nearest kecamatan centre, and whether the point is in the regency:
 * inside its bounding box, within MAX_KM of a KBB centre, and no nearer a neighbour's centre
 * (Kota Cimahi, Kota Bandung, ... across the border) than to every KBB one.
 */
export function locate(data, point) {
  let best = null;
  for (const k of data.kecamatan) {
    const km = distanceKm(point, k);
    if (!best || km < best.km) best = { code: k.code, name: k.name, km };
  }
  const neighbourKm = Math.min(Infinity, ...(data.neighbours || []).map((n) => distanceKm(point, n)));
  const [[south, west], [north, east]] = data.bounds;
  const inBox = point.lat >= south && point.lat <= north && point.lon >= west && point.lon <= east;
  return { ...best, inside: inBox && best.km <= MAX_KM && best.km < neighbourKm };
}

/**
 * Counts per kecamatan drawn as proportional circles at their centres (an SVG, no tiles), with
 * the names; the same numbers are in the table next to it. rows: [{code, label, value}].
 */
export function kecamatanMap(rows) {
  const svg = h('svg:svg', { class: 'kec-map', viewBox: '0 0 320 300', role: 'img', 'aria-labelledby': 'kec-map-t' });
  const summary = rows.map((r) => `${r.label}: ${r.value}`).join('; ');
  svg.append(h('svg:title', { id: 'kec-map-t' }, `Peta jumlah laporan per kecamatan. ${summary}`));
  const wrap = h('figure', { class: 'kec-map-wrap' }, svg,
    h('figcaption', { class: 'hint' }, 'Lingkaran lebih besar: lebih banyak laporan; titik kecil: belum ada laporan. Posisi adalah titik tengah perkiraan tiap kecamatan.'));
  kecamatanCentres().then((data) => {
    const [[south, west], [north, east]] = data.bounds;
    const x = (lon) => 10 + ((lon - west) / (east - west)) * 300;
    const y = (lat) => 10 + ((north - lat) / (north - south)) * 280;
    const top = Math.max(1, ...rows.map((r) => r.value));
    const counts = Object.fromEntries(rows.map((r) => [r.code, r.value]));
    for (const k of data.kecamatan) {
      const v = counts[k.code] || 0;
      const r = v ? 4 + 18 * Math.sqrt(v / top) : 2;
      svg.append(h('svg:circle', { class: v ? 'kec-dot' : 'kec-dot kec-dot-empty', cx: x(k.lon).toFixed(1), cy: y(k.lat).toFixed(1), r: r.toFixed(1) }));
      // Only kecamatan with reports are named: sixteen names overlap at phone width.
      if (v) svg.append(h('svg:text', { class: 'kec-label', x: x(k.lon).toFixed(1), y: (y(k.lat) + r + 9).toFixed(1) }, `${k.name} (${v})`));
    }
  }).catch(() => wrap.remove());
  return wrap;
}
