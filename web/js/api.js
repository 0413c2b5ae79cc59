// The API client: one place that knows the base URL, the headers and the error shape
// {"error": {"code", "message", "details"}} of the contract.
import { getToken, signOut } from './auth.js';
import { settings } from './settings.js';

export function apiBase() { return settings().apiBase; }

// Plain Indonesian for each error code of the contract.
export const ERROR_TEXT = {
  validation_error: 'Ada isian yang perlu diperbaiki. Periksa pesan di samping kolom yang ditandai.',
  unauthenticated: 'Sesi Anda sudah berakhir atau Anda belum masuk. Silakan masuk lagi.',
  forbidden: 'Peran Anda tidak diizinkan melakukan tindakan ini.',
  not_found: 'Data tidak ditemukan.',
  invalid_transition: 'Tindakan ini tidak dapat dilakukan pada status laporan saat ini. '
    + 'Kemungkinan laporan sudah ditangani orang lain. Muat ulang untuk melihat status terbaru.',
  version_conflict: 'Laporan ini sudah diubah orang lain sejak Anda membukanya, jadi tindakan Anda '
    + 'belum disimpan. Muat ulang untuk melihat perubahan terbaru, lalu ulangi bila masih perlu.',
  too_large: 'Berkas terlalu besar. Ukuran maksimal 10 MB.',
  unsupported_media_type: 'Jenis berkas tidak didukung. Gunakan foto JPG/PNG atau dokumen PDF.',
  rate_limited: 'Terlalu banyak permintaan dalam waktu singkat. Tunggu sebentar, lalu coba lagi.',
  network: 'Tidak dapat menghubungi server. Periksa koneksi internet Anda, lalu coba lagi.',
  server: 'Terjadi gangguan di server. Coba lagi beberapa saat lagi.',
};

export class ApiError extends Error {
  constructor(status, code, message, details = [], body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
    this.body = body;
  }

  /** The message to show a person: ours for known codes, the server's otherwise. */
  get text() {
    return ERROR_TEXT[this.code] || this.message || ERROR_TEXT.server;
  }
}

/**
 * Call the API. Options:
 *   method, body (JSON), query (object), staff (send the staff bearer token),
 *   accessToken (X-Access-Token of a reporter), ifMatch (report version),
 *   idempotencyKey, accept ('json' | 'text' | 'blob').
 */
export async function api(path, opts = {}) {
  // A file is usable once the server has checked it (seconds after its upload). A request naming
  // files still being checked is refused whole, nothing stored: the same request is sent again.
  for (const wait of PENDING_FILE_WAITS_MS) {
    try {
      return await call(path, opts);
    } catch (err) {
      const pending = err instanceof ApiError && err.status === 400 && err.details.length > 0
        && err.details.every((d) => d && d.type === 'attachment_pending');
      if (!pending || wait === null) throw err;
      await new Promise((resolve) => { setTimeout(resolve, wait); });
    }
  }
  throw new ApiError(0, 'server', ERROR_TEXT.server);
}

const PENDING_FILE_WAITS_MS = [500, 1000, 2000, 3000, 5000, 8000, 10000, 15000, null];

async function call(path, opts) {
  const { method = 'GET', body, query, staff = false, accessToken, ifMatch, idempotencyKey, accept = 'json' } = opts;
  let url = apiBase() + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') qs.append(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = { Accept: accept === 'json' ? 'application/json' : '*/*' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (staff) {
    const t = getToken();
    if (!t) throw new ApiError(401, 'unauthenticated', ERROR_TEXT.unauthenticated);
    headers.Authorization = `Bearer ${t}`;
  }
  if (accessToken) headers['X-Access-Token'] = accessToken;
  if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = String(ifMatch);
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

  let res;
  try {
    res = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), mode: 'cors', credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, 'network', ERROR_TEXT.network);
  }

  if (!res.ok) {
    let payload = null;
    try { payload = await res.json(); } catch { payload = null; }
    const err = payload && payload.error ? payload.error : {};
    const code = err.code || (res.status >= 500 ? 'server' : `http_${res.status}`);
    const e = new ApiError(res.status, code, err.message || `HTTP ${res.status}`, err.details, payload);
    if (staff && res.status === 401) signOut({ silent: true });
    throw e;
  }
  if (res.status === 204) return null;
  if (accept === 'blob') return res.blob();
  if (accept === 'text') return res.text();
  const text = await res.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

// Reference data changes rarely: fetch once per page load.
const refCache = new Map();
export function reference(kind) {
  if (!refCache.has(kind)) {
    const p = api(`/${kind}`).then((r) => (r && Array.isArray(r.items) ? r.items : []));
    p.catch(() => refCache.delete(kind));
    refCache.set(kind, p);
  }
  return refCache.get(kind);
}

/** Name for a code from a reference list (falls back to the code). */
export async function refName(kind, code) {
  if (!code) return '';
  try {
    const items = await reference(kind);
    const it = items.find((x) => x.code === code || x.name === code);
    return it ? it.name : code;
  } catch {
    return code;
  }
}

/**
 * Upload one file: POST /attachments, then the presigned POST to storage.
 * Returns the attachment id.
 */
export const MAX_UPLOAD = 10 * 1024 * 1024;
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'application/pdf'];

export async function uploadFile(file, { staff = false, onProgress } = {}) {
  if (!UPLOAD_TYPES.includes(file.type)) {
    throw new ApiError(415, 'unsupported_media_type', ERROR_TEXT.unsupported_media_type);
  }
  if (file.size > MAX_UPLOAD) throw new ApiError(413, 'too_large', ERROR_TEXT.too_large);
  if (file.size === 0) throw new ApiError(400, 'validation_error', 'Berkas kosong.');
  const created = await api('/attachments', {
    method: 'POST', body: { content_type: file.type, size: file.size }, staff,
  });
  const upload = created && created.upload;
  if (!upload || !upload.url) throw new ApiError(502, 'server', ERROR_TEXT.server);
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields || {})) form.append(k, v);
  // S3 requires the file to be the last field of the form.
  form.append('file', file, file.name);
  let status;
  try {
    status = await postWithProgress(upload.url, form, onProgress);
  } catch {
    throw new ApiError(0, 'network', 'Berkas gagal diunggah ke penyimpanan. Periksa koneksi, lalu coba lagi.');
  }
  if (status < 200 || status >= 300) {
    const code = status === 413 || status === 400 ? 'too_large' : 'server';
    throw new ApiError(status, code, code === 'too_large'
      ? 'Berkas ditolak penyimpanan (terlalu besar atau jenisnya tidak sesuai).'
      : 'Berkas gagal diunggah ke penyimpanan.');
  }
  return created.attachment_id;
}

/** POST a form with upload progress (fetch reports none); resolves with the HTTP status. */
function postWithProgress(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.withCredentials = false;
    if (onProgress) xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener('load', () => resolve(xhr.status));
    xhr.addEventListener('error', () => reject(new Error('network')));
    xhr.addEventListener('abort', () => reject(new Error('aborted')));
    xhr.send(form);
  });
}
