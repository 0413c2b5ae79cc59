// What this device keeps, and nothing more (phones are shared):
//  - drafts of reports written without a signal (IndexedDB; text, place, photos; never a NIK),
//    each with the Idempotency-Key made when the draft was made, so a draft is filed once;
//  - the last status and time seen of reports tracked here (localStorage; never the access
//    code or any text).
// wipeDevice() removes all of it, the service worker's cache and the staff session too.
const DB = 'lapor-kbb';
const STORE = 'drafts';
const STATUS_KEY = 'lapor-kbb.status';
// The API keeps an Idempotency-Key for 24 hours; a draft older than this asks before it is sent
// with a new key (the old one may have been forgotten by the server, so a lost answer could file twice).
export const KEY_LIFE_MS = 23 * 3600 * 1000;

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.addEventListener('upgradeneeded', () => req.result.createObjectStore(STORE, { keyPath: 'id' }));
    req.addEventListener('success', () => resolve(req.result));
    req.addEventListener('error', () => reject(req.error));
  });
}

async function tx(mode, fn) {
  const d = await db();
  try {
    return await new Promise((resolve, reject) => {
      const t = d.transaction(STORE, mode);
      const out = fn(t.objectStore(STORE));
      t.addEventListener('complete', () => resolve(out && 'result' in out ? out.result : undefined));
      t.addEventListener('error', () => reject(t.error));
    });
  } finally {
    d.close();
  }
}

/** A draft body never carries a NIK. */
export function withoutNik(body) {
  const copy = JSON.parse(JSON.stringify(body));
  if (copy.reporter) delete copy.reporter.nik;
  return copy;
}

export function saveDraft(draft) {
  return tx('readwrite', (s) => s.put({ ...draft, body: withoutNik(draft.body) }));
}

export async function listDrafts() {
  const all = await tx('readonly', (s) => s.getAll());
  return (all || []).sort((a, b) => a.created_at - b.created_at);
}

export function deleteDraft(id) {
  return tx('readwrite', (s) => s.delete(id));
}

export function rememberStatus(trackingId, status) {
  const all = savedStatuses().filter((x) => x.tracking_id !== trackingId);
  all.unshift({ tracking_id: trackingId, status, seen_at: new Date().toISOString() });
  localStorage.setItem(STATUS_KEY, JSON.stringify(all.slice(0, 10)));
}

export function savedStatuses() {
  try {
    const v = JSON.parse(localStorage.getItem(STATUS_KEY) || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** "Hapus data di perangkat ini": drafts, saved statuses, caches, the staff session. */
export async function wipeDevice() {
  localStorage.clear();
  sessionStorage.clear();
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(DB);
    req.addEventListener('success', resolve);
    req.addEventListener('error', resolve);
    req.addEventListener('blocked', resolve);
  });
  if (window.caches) {
    for (const k of await caches.keys()) await caches.delete(k);
  }
}
