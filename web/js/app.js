// Start-up, hash routing and the navigation bar.
import { h, clear, flash, flashOnNavigate } from './dom.js';
import { session, onAuthChange, completeRedirect, signOut } from './auth.js';
import { loadSettings } from './settings.js';
import * as home from './pages/home.js';
import * as lapor from './pages/lapor.js';
import * as lacak from './pages/lacak.js';
import * as statistik from './pages/statistik.js';
import * as masuk from './pages/masuk.js';
import * as inbox from './pages/inbox.js';
import * as staffReport from './pages/staff-report.js';
import * as kinerja from './pages/kinerja.js';
import { memory } from './store.js';
import { onOutbox, startOutbox } from './outbox.js';
import * as sinkron from './pages/sinkron.js';
import * as catat from './pages/catat.js';

// [pattern, page module, needs staff sign-in]
const ROUTES = [
  [/^\/$/, home, false],
  [/^\/lapor$/, lapor, false],
  [/^\/lacak$/, lacak, false],
  [/^\/statistik$/, statistik, false],
  [/^\/staf\/masuk$/, masuk, false],
  [/^\/staf$/, inbox, true],
  [/^\/staf\/laporan\/([^/]+)$/, staffReport, true],
  [/^\/staf\/kinerja$/, kinerja, true],
  [/^\/staf\/sinkron$/, sinkron, true],
  [/^\/staf\/catat$/, catat, true],
];

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs) };
}

export function navigate(hash) {
  if (window.location.hash === hash) render({ focus: true });
  else window.location.hash = hash;
}

function navItems() {
  const s = session();
  const items = [
    ['#/lapor', 'Lapor'],
    ['#/lacak', 'Lacak'],
    ['#/statistik', 'Statistik'],
  ];
  if (s) {
    items.push(['#/staf', 'Kotak masuk']);
    if (['admin', 'pimpinan', 'opd', 'opd_admin'].includes(s.role)) items.push(['#/staf/kinerja', 'Kinerja OPD']);
    if (s.role === 'admin') items.push(['#/staf/catat', 'Catat laporan'], ['#/staf/sinkron', 'Sinkron LAPOR!']);
  } else {
    items.push(['#/staf/masuk', 'Masuk staf']);
  }
  return items;
}

function renderNav(path) {
  const nav = document.getElementById('nav');
  clear(nav);
  for (const [href, label] of navItems()) {
    const target = href.slice(1);
    const current = path === target || (target !== '/' && target === '/staf' && path.startsWith('/staf/laporan'));
    nav.append(h('li', {}, h('a', { href, 'aria-current': current ? 'page' : null }, label)));
  }
  if (session()) {
    nav.append(h('li', {}, h('button', {
      type: 'button', class: 'nav-staff',
      onclick: () => { signOut(); flash('info', 'Anda sudah keluar.', { keep: true }); navigate('#/staf/masuk'); },
    }, 'Keluar')));
  }
}

let renderSeq = 0;
let firstRender = true;

async function render({ focus } = {}) {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  const view = document.getElementById('view');
  let match = null;
  let page = null;
  let needsStaff = false;
  for (const [re, mod, staff] of ROUTES) {
    match = path.match(re);
    if (match) { page = mod; needsStaff = staff; break; }
  }
  renderNav(path);
  if (!firstRender) flashOnNavigate();
  clear(view);
  if (!page) {
    document.title = 'Halaman tidak ditemukan · Lapor KBB';
    view.append(h('h1', { tabindex: '-1' }, 'Halaman tidak ditemukan'),
      h('p', {}, h('a', { href: '#/' }, 'Kembali ke beranda')));
  } else if (needsStaff && !session()) {
    document.title = 'Masuk staf · Lapor KBB';
    await masuk.render(view, { returnTo: `#${path}${query.toString() ? `?${query}` : ''}` });
  } else {
    document.title = `${page.title || 'Lapor KBB'} · Lapor KBB`;
    await page.render(view, { params: match.slice(1).map(decodeURIComponent), query, navigate });
  }
  if (seq !== renderSeq) return;
  if (!firstRender || focus) {
    // Move focus to the page heading so keyboard and screen-reader users start at the top.
    const h1 = view.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus(); }
    window.scrollTo(0, 0);
  }
  firstRender = false;
}

async function start() {
  await loadSettings();
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const main = document.getElementById('main');
    main.focus();
    main.scrollIntoView();
  });
  const done = await completeRedirect();
  if (done && done.error) flash('error', done.error, { keep: true });
  onAuthChange(() => renderNav(parseHash().path));
  window.addEventListener('hashchange', (e) => {
    // Only "#/..." hashes are routes; a bare "#" from a link does nothing.
    if (!window.location.hash.startsWith('#/') && window.location.hash !== '') {
      e.preventDefault();
      return;
    }
    render();
  });
  if (!window.location.hash.startsWith('#/')) window.history.replaceState(null, '', '#/');
  await render();
  if (done && done.returnTo) flash('ok', 'Anda sudah masuk.');
  // A draft filed when the signal came back: its tracking number and access code are shown at once.
  onOutbox((ev) => {
    if (!ev.result) return;
    memory.sentResults.push(ev.result);
    navigate('#/lapor');
  });
  startOutbox();
  if ('serviceWorker' in navigator && window.isSecureContext) {
    // A developer's local overlay (config.local.js, the local stack's API URL) is kept offline too.
    const local = (window.LAPOR_KBB_CONFIG || {}).localConfig;
    navigator.serviceWorker.register(local ? `sw.js?also=${encodeURIComponent(local)}` : 'sw.js')
      .catch(() => { /* the app works without it, only not offline */ });
  }
}

start();
