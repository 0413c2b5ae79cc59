// Run-time settings from config.js (written by the deploy), optionally overlaid by a local file
// that the local stack writes (named by config.js's `localConfig`, so a deployed site never asks
// for it). Both spellings are accepted:
//   window.LAPOR_KBB_CONFIG = {apiBase, auth: {mode, domain, clientId, ...}}   (config.js)
//   window.LAPOR_CONFIG     = {apiBaseUrl, authMode}                          (local stack)
let merged = null;

function compute() {
  const a = window.LAPOR_KBB_CONFIG || {};
  const b = window.LAPOR_CONFIG || {};
  const auth = { mode: 'local', ...(a.auth || {}), ...(b.auth || {}) };
  if (b.authMode) auth.mode = b.authMode;
  const apiBase = String(b.apiBase || b.apiBaseUrl || a.apiBase || a.apiBaseUrl || 'http://127.0.0.1:8000').replace(/\/+$/, '');
  // Map tiles are configuration (the deploy's Content-Security-Policy admits their host too).
  const map = {
    tileUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
    attribution: '© OpenStreetMap contributors',
    ...(a.map || {}), ...(b.map || {}),
  };
  return { apiBase, auth, map };
}

export async function loadSettings() {
  const a = window.LAPOR_KBB_CONFIG || {};
  if (a.localConfig) {
    try {
      await import(new URL(a.localConfig, document.baseURI).href);
    } catch {
      /* no local override: fine */
    }
  }
  merged = compute();
  return merged;
}

export function settings() {
  if (!merged) merged = compute();
  return merged;
}
