// Service worker: keeps the app shell (this site's own files) so Lapor KBB opens without a signal.
// Network first, so a new deploy shows at once when there is a signal; the cache answers only
// when the network does not. API answers (another origin) and map tiles are never cached here:
// report texts and access codes stay off the device.
const CACHE = 'lapor-kbb-shell-v1';
const SHELL = [
  './', 'index.html', 'config.js', 'manifest.webmanifest', 'css/app.css',
  'icons/icon-192.png', 'icons/icon-512.png', 'icons/favicon-32.png', 'data/kecamatan.json',
  'js/app.js', 'js/api.js', 'js/auth.js', 'js/chart.js', 'js/device.js', 'js/dom.js', 'js/forms.js',
  'js/geo.js', 'js/labels.js', 'js/map.js', 'js/outbox.js', 'js/photos.js', 'js/settings.js', 'js/store.js',
  'js/pages/home.js', 'js/pages/inbox.js', 'js/pages/kinerja.js', 'js/pages/lacak.js', 'js/pages/lapor.js',
  'js/pages/catat.js', 'js/pages/masuk.js', 'js/pages/sinkron.js', 'js/pages/staff-report.js', 'js/pages/statistik.js',
];
// Leaflet (web/vendor) is not fetched ahead: without a signal there are no map tiles either. Once
// a map was opened, its files are in the cache like every other file fetched.

// Files the page names when registering (`sw.js?also=config.local.js` on a developer machine): kept
// when present, since offline the app must still find its API; a deployed site names none.
const ALSO = new URL(self.location.href).searchParams.getAll('also').filter((f) => /^[\w.-]+\.js$/.test(f));

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then(async (c) => {
      await c.addAll(SHELL);
      await Promise.all(ALSO.map((f) => c.add(f).catch(() => {})));
    })
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    try {
      const res = await fetch(req);
      if (res.ok && res.type === 'basic') {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(req, copy));
      }
      return res;
    } catch (err) {
      const hit = await caches.match(req, { ignoreSearch: true })
        || (req.mode === 'navigate' ? await caches.match('index.html') : undefined);
      if (hit) return hit;
      throw err;
    }
  })());
});
