// Small DOM helpers. Text always goes in as text nodes: report texts are user input, so no
// innerHTML with data anywhere in this app.

let uid = 0;
export function nextId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * h('button', {class: 'btn', onclick: fn, 'aria-expanded': 'false'}, 'Teks', otherNode)
 * Attribute values false/null/undefined are skipped; true sets an empty attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag.includes(':')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.split(':')[1])
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.setAttribute('class', v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' && 'value' in el && tag !== 'option' && !tag.includes(':')) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected' || k === 'disabled' && 'disabled' in el) {
      el[k] = Boolean(v);
      if (v) el.setAttribute(k, '');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(sel, root = document) { return root.querySelector(sel); }
export function $all(sel, root = document) { return Array.from(root.querySelectorAll(sel)); }

// ---- messages ---------------------------------------------------------------------------

/** A message box. kind: info | ok | error | warn. */
export function msg(kind, title, ...body) {
  return h('div', { class: `msg msg-${kind}` },
    title ? h('p', { class: 'msg-title' }, title) : null,
    ...body.map((b) => (b instanceof Node ? b : h('p', {}, b))));
}

/**
 * Announce in the persistent polite live region (#flash) and show it there. With keep, the
 * message survives the next page change (e.g. "Anda sudah keluar" before going to sign-in).
 */
export function flash(kind, text, { keep = false } = {}) {
  const region = document.getElementById('flash');
  if (!region) return;
  clear(region);
  if (keep) region.dataset.keep = '1';
  else delete region.dataset.keep;
  if (text) {
    // A new child in an existing live region is announced by screen readers.
    region.append(msg(kind, null, text));
  }
}

/** Called on every page change: drops the flash unless it was kept for this change. */
export function flashOnNavigate() {
  const region = document.getElementById('flash');
  if (!region) return;
  if (region.dataset.keep === '1') delete region.dataset.keep;
  else clear(region);
}

/** Put a message into a container that is itself a live region (role=status or alert). */
export function setStatus(container, kind, text, ...extra) {
  clear(container);
  if (text) container.append(msg(kind, null, text, ...extra));
}

// ---- formatting -------------------------------------------------------------------------

const TZ = 'Asia/Jakarta';
const dtFmt = new Intl.DateTimeFormat('id-ID', {
  timeZone: TZ, day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
});
const dFmt = new Intl.DateTimeFormat('id-ID', { timeZone: TZ, day: 'numeric', month: 'long', year: 'numeric' });

export function fmtDateTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${dtFmt.format(d)} WIB`;
}

export function fmtDate(isoDate) {
  if (!isoDate) return '–';
  // A plain date (YYYY-MM-DD) is a calendar date, not an instant: format it at noon WIB.
  const d = /^\d{4}-\d{2}-\d{2}$/.test(isoDate) ? new Date(`${isoDate}T12:00:00+07:00`) : new Date(isoDate);
  if (Number.isNaN(d.getTime())) return String(isoDate);
  return dFmt.format(d);
}

export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined || n === '') return '–';
  const x = Number(n);
  if (!Number.isFinite(x)) return String(n);
  return x.toLocaleString('id-ID', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Today in WIB as YYYY-MM-DD. */
export function todayWib() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date());
}

/** This month in WIB as YYYY-MM. */
export function thisMonthWib() {
  return todayWib().slice(0, 7);
}

export function fmtMonth(period) {
  if (!/^\d{4}-\d{2}$/.test(period || '')) return period || '';
  const d = new Date(`${period}-15T12:00:00+07:00`);
  return new Intl.DateTimeFormat('id-ID', { timeZone: TZ, month: 'long', year: 'numeric' }).format(d);
}

/** Copy text to the clipboard; falls back to a hidden textarea where the API is missing. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall back below */ }
  const ta = h('textarea', { 'aria-hidden': 'true', tabindex: '-1', class: 'offscreen' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

/** Offer a Blob as a file download. */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function randomId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
