// Sends the drafts kept on this device (device.js) when there is a signal: at start-up, when the
// browser comes back online, and when the reporter asks. Each draft is sent with the key made
// when it was written, so a retry after a lost answer files it once; uploaded photos keep their
// attachment id in the draft, so the retried body is the same.
import { api, uploadFile, ApiError } from './api.js';
import { listDrafts, saveDraft, deleteDraft, KEY_LIFE_MS } from './device.js';
import { randomId } from './dom.js';

const listeners = new Set();
let running = null;

/** fn({draft, result}) after a draft was filed; fn({changed: true}) when the list changed. */
export function onOutbox(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function emit(ev) { for (const fn of listeners) fn(ev); }

export function expired(draft, now = Date.now()) {
  return now - draft.key_made_at > KEY_LIFE_MS;
}

async function sendOne(draft) {
  const files = draft.files || [];
  for (const f of files) {
    if (f.id) continue;
    f.id = await uploadFile(f.file);
    await saveDraft(draft);
  }
  const body = { ...draft.body };
  if (files.length) body.attachments = files.map((f) => f.id);
  const result = await api('/reports', { method: 'POST', body, idempotencyKey: draft.key });
  await deleteDraft(draft.id);
  emit({ draft, result });
  return result;
}

/** Try every draft whose key is still alive (or that the reporter confirmed). */
export function sendDrafts({ confirmedId } = {}) {
  if (running) return running;
  running = (async () => {
    let sent = 0;
    for (const draft of await listDrafts()) {
      if (expired(draft)) {
        if (draft.id !== confirmedId) continue;
        draft.key = randomId();
        draft.key_made_at = Date.now();
        await saveDraft(draft);
      }
      try {
        await sendOne(draft);
        sent += 1;
      } catch (err) {
        if (err instanceof ApiError && err.code === 'network') break; // still no signal
        draft.error = err instanceof ApiError ? err.text : 'Draf gagal dikirim.';
        await saveDraft(draft);
      }
    }
    emit({ changed: true });
    return sent;
  })().finally(() => { running = null; });
  return running;
}

export function startOutbox() {
  window.addEventListener('online', () => { sendDrafts(); });
  if (navigator.onLine !== false) sendDrafts();
}
