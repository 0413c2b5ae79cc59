// Leaflet maps (web/vendor/leaflet, copied from the pinned npm package). Leaflet is loaded only
// when a page shows a map, so the home page and the form's first paint stay small.
import { h } from './dom.js';
import { settings } from './settings.js';

let loading = null;

export function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const base = new URL('../vendor/leaflet/', import.meta.url);
      document.head.append(h('link', { rel: 'stylesheet', href: new URL('leaflet.css', base).href }));
      const s = h('script', { src: new URL('leaflet.js', base).href });
      s.addEventListener('load', () => resolve(window.L));
      s.addEventListener('error', () => { loading = null; reject(new Error('Peta gagal dimuat.')); });
      document.head.append(s);
    });
  }
  return loading;
}

/** A Leaflet map in `el`, centred on [lat, lon], with the configured tiles. */
export async function tileMap(el, center, zoom) {
  const L = await loadLeaflet();
  const { map: cfg } = settings();
  const map = L.map(el, { center, zoom, scrollWheelZoom: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: 'Perbesar', zoomOutTitle: 'Perkecil' }).addTo(map);
  map.attributionControl.setPrefix(false);
  L.tileLayer(cfg.tileUrl, { maxZoom: 19, attribution: cfg.attribution }).addTo(map);
  // The tiles are pictures: tell assistive technology the map's purpose instead.
  el.setAttribute('aria-roledescription', 'peta');
  return { L, map };
}

/** A read-only map with one marker (the staff report page). */
export function pointMap(lat, lon, label) {
  const el = h('div', { class: 'map map-small', role: 'region', 'aria-label': `Peta lokasi: ${label}` });
  const wrap = h('div', { class: 'map-wrap' }, el);
  tileMap(el, [lat, lon], 16).then(({ L, map }) => {
    L.marker([lat, lon], { keyboard: false, alt: label, title: label }).addTo(map);
  }).catch(() => el.replaceWith(h('p', { class: 'hint' }, 'Peta tidak dapat dimuat.')));
  return wrap;
}
