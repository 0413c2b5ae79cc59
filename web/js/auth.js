// Staff sign-in. The bearer token lives in sessionStorage only (gone when the tab closes).
// Two modes from config.js: "local" (paste a token printed by the CLI) and "cognito" (hosted
// UI, authorization code with PKCE, or implicit). The server checks every token; the claims
// read here only decide what the UI offers.

const KEY = 'laporkbb.staff.token';
const PKCE_KEY = 'laporkbb.staff.pkce';
import { settings } from './settings.js';

// Read at call time: settings may be overlaid by a local file after the modules load.
const cfg = () => settings().auth;
export function authMode() { return cfg().mode === 'cognito' ? 'cognito' : 'local'; }
export const ROLES = ['admin', 'opd', 'opd_admin', 'pimpinan'];

const listeners = new Set();
export function onAuthChange(fn) { listeners.add(fn); }
function emit() { for (const fn of listeners) fn(); }

function b64urlDecode(s) {
  const pad = s.length % 4 === 2 ? '==' : s.length % 4 === 3 ? '=' : '';
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + pad);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The payload of a JWT, or null when it is not one. No signature check: the server does that. */
export function decodeJwt(token) {
  const parts = String(token || '').trim().split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(b64urlDecode(parts[1]));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/** Role and OPD from the claims, also from Cognito's custom attributes and groups. */
export function roleOf(claims) {
  if (!claims) return { role: null, opd: null };
  const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'] : [];
  const role = claims.role || claims['custom:role'] || groups.find((g) => ROLES.includes(g)) || null;
  const opd = claims.opd_code || claims['custom:opd_code'] || null;
  return { role, opd };
}

function expired(claims) {
  return typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now();
}

export function getToken() {
  const t = sessionStorage.getItem(KEY);
  if (!t) return null;
  const c = decodeJwt(t);
  if (!c || expired(c)) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return t;
}

/** {token, claims, role, opd, name} of the signed-in staff member, or null. */
export function session() {
  const token = getToken();
  if (!token) return null;
  const claims = decodeJwt(token);
  const { role, opd } = roleOf(claims);
  return { token, claims, role, opd, name: claims.name || claims.email || claims['cognito:username'] || claims.sub || '' };
}

/** Store a pasted or received token after a shape check. Returns an error text or null. */
export function signInWithToken(raw) {
  const token = String(raw || '').trim().replace(/^Bearer\s+/i, '');
  const claims = decodeJwt(token);
  if (!claims) return 'Token tidak dikenali. Tempel seluruh token (tiga bagian dipisah titik).';
  if (expired(claims)) return 'Token sudah kedaluwarsa. Buat token baru.';
  const { role } = roleOf(claims);
  if (!ROLES.includes(role)) return 'Token tidak memuat peran staf (admin, opd, opd_admin, atau pimpinan).';
  sessionStorage.setItem(KEY, token);
  emit();
  return null;
}

export function signOut({ silent = false } = {}) {
  const had = sessionStorage.getItem(KEY) !== null;
  sessionStorage.removeItem(KEY);
  if (had) emit();
  if (!silent && authMode() === 'cognito' && cfg().domain && cfg().clientId) {
    const u = new URL('/logout', cfg().domain);
    u.searchParams.set('client_id', cfg().clientId);
    u.searchParams.set('logout_uri', redirectUri());
    window.location.assign(u.toString());
  }
}

// ---- Cognito hosted UI ------------------------------------------------------------------

function redirectUri() {
  return cfg().redirectUri || `${window.location.origin}${window.location.pathname}`;
}

function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

export async function startCognitoSignIn(returnTo = '#/staf') {
  if (!cfg().domain || !cfg().clientId) throw new Error('Konfigurasi Cognito (domain, clientId) belum diisi di config.js.');
  const flow = cfg().flow === 'implicit' ? 'implicit' : 'pkce';
  const state = randomString(16);
  const u = new URL('/oauth2/authorize', cfg().domain);
  u.searchParams.set('client_id', cfg().clientId);
  u.searchParams.set('redirect_uri', redirectUri());
  u.searchParams.set('scope', cfg().scopes || 'openid email profile');
  u.searchParams.set('state', state);
  const saved = { state, returnTo };
  if (flow === 'pkce') {
    const verifier = randomString(48);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('code_challenge', b64url(digest));
    u.searchParams.set('code_challenge_method', 'S256');
    saved.verifier = verifier;
  } else {
    u.searchParams.set('response_type', 'token');
  }
  sessionStorage.setItem(PKCE_KEY, JSON.stringify(saved));
  window.location.assign(u.toString());
}

// One text whatever went wrong: the redirect's own `error_description` is whatever the address
// bar says (a crafted link could make the page read "your account is blocked, call ..."), and the
// cause helps no one but an attacker probing the sign-in.
export const SIGN_IN_FAILED = 'Masuk gagal. Silakan coba lagi; bila tetap gagal, hubungi admin Diskominfotik.';

/**
 * Called once at start-up: finishes a Cognito redirect (?code=... or #id_token=...).
 * Returns {returnTo} when a redirect was handled, {error} on failure, or null.
 */
export async function completeRedirect() {
  if (authMode() !== 'cognito') return null;
  const query = new URLSearchParams(window.location.search);
  const frag = window.location.hash.startsWith('#/') ? null : new URLSearchParams(window.location.hash.slice(1));
  const hasCode = query.has('code') || query.has('error');
  const hasImplicit = frag && (frag.has('id_token') || frag.has('access_token') || frag.has('error'));
  if (!hasCode && !hasImplicit) return null;

  let saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || '{}'); } catch { saved = {}; }
  sessionStorage.removeItem(PKCE_KEY);
  const params = hasCode ? query : frag;
  const clean = () => window.history.replaceState(null, '', `${window.location.pathname}${saved.returnTo || '#/staf'}`);

  if (params.get('error')) {
    clean();
    return { error: SIGN_IN_FAILED };
  }
  if (!saved.state || params.get('state') !== saved.state) {
    clean();
    return { error: SIGN_IN_FAILED };
  }
  let idToken = params.get('id_token');
  let accessToken = params.get('access_token');
  if (hasCode) {
    const body = new URLSearchParams({
      grant_type: 'authorization_code', client_id: cfg().clientId, code: query.get('code'),
      redirect_uri: redirectUri(), code_verifier: saved.verifier || '',
    });
    try {
      const res = await fetch(new URL('/oauth2/token', cfg().domain).toString(), {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const tok = await res.json();
      idToken = tok.id_token;
      accessToken = tok.access_token;
    } catch {
      clean();
      return { error: SIGN_IN_FAILED };
    }
  }
  const chosen = cfg().tokenUse === 'access' ? accessToken : (idToken || accessToken);
  clean();
  const err = signInWithToken(chosen);
  return err ? { error: SIGN_IN_FAILED } : { returnTo: saved.returnTo || '#/staf' };
}
