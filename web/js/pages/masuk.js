// Masuk staf: local dev sign-in (paste a CLI token) or the Cognito hosted UI.
import { h, flash } from '../dom.js';
import { authMode, session, signInWithToken, startCognitoSignIn, signOut } from '../auth.js';
import { field, val, showErrors } from '../forms.js';
import { ROLE_LABEL } from '../labels.js';

export const title = 'Masuk staf';

function go(hash) {
  if (window.location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else window.location.hash = hash;
}

export function render(view, { returnTo, query } = {}) {
  const target = returnTo || (query && query.get('lanjut')) || '#/staf';
  view.append(h('h1', {}, 'Masuk staf'));
  const s = session();
  if (s) {
    view.append(
      h('p', {}, 'Anda sudah masuk sebagai ', h('strong', {}, ROLE_LABEL[s.role] || s.role),
        s.opd ? ` (${s.opd})` : '', s.name ? ` · ${s.name}` : '', '.'),
      h('div', { class: 'actions' },
        h('a', { class: 'btn', href: '#/staf' }, 'Buka kotak masuk'),
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { signOut(); flash('info', 'Anda sudah keluar.', { keep: true }); go('#/staf/masuk'); } }, 'Keluar')));
    return;
  }
  view.append(h('p', {}, 'Halaman staf untuk admin Diskominfotik, petugas OPD, dan pimpinan.'));

  if (authMode() === 'cognito') {
    const status = h('p', { role: 'status', 'aria-live': 'polite' });
    view.append(
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'btn',
          onclick: async () => {
            status.textContent = 'Mengalihkan ke halaman masuk…';
            try { await startCognitoSignIn(target); } catch (e) { status.textContent = e.message; }
          },
        }, 'Masuk dengan akun Pemkab KBB')),
      status);
    return;
  }

  const tokenInput = h('textarea', { rows: 5, spellcheck: 'false', autocomplete: 'off', class: 'mono' });
  const form = h('form', { novalidate: true, class: 'card' },
    h('h2', {}, 'Masuk pengembangan (lokal)'),
    h('p', {}, 'Di mesin pengembangan, selagi `make run` berjalan, buat token staf dengan salah satu perintah berikut di folder proyek, lalu tempel hasilnya di bawah:'),
    h('pre', { class: 'cmd' },
      'make token ROLE=admin\n',
      'make token ROLE=opd OPD=DINSOS\n',
      'make token ROLE=pimpinan'),
    field({ label: 'Token staf (JWT)', name: 'token', required: true, control: tokenInput, hint: 'Token disimpan hanya di tab ini dan hilang saat tab ditutup.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Masuk')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const err = signInWithToken(val(form, 'token'));
    if (err) { showErrors(form, [{ field: 'token', message: err }], { title: 'Belum bisa masuk' }); return; }
    const now = session();
    flash('ok', `Anda masuk sebagai ${ROLE_LABEL[now.role] || now.role}${now.opd ? ` (${now.opd})` : ''}.`, { keep: true });
    go(target === '#/staf/masuk' ? '#/staf' : target);
  });
  view.append(form);
}
