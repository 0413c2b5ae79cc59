// The web client's scenarios (steps a person takes), run against the local stack.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { axe, horizontalOverflow, keyboardReach, pngPhoto, todayWib, until } from './lib.mjs';

const PHOTO = { name: 'jalan-berlubang.png', mimeType: 'image/png', buffer: pngPhoto() };
const PDF = {
  name: 'berita-acara.pdf', mimeType: 'application/pdf',
  buffer: Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'),
};

/** Screenshot and axe check of the page as it is now. Collects axe failures in env.axeFailures. */
export async function evidence(env, page, name) {
  await env.art.shot(page, name);
  const bad = await axe(page, env.art, name);
  if (bad.length) env.axeFailures.push(`${name}: ${bad.join(' | ')}`);
}

async function heading(page, name) {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function fieldError(page, field, pattern = /\S/) {
  const loc = page.locator(`[data-field="${field}"] .field-error`).first();
  await until(async () => pattern.test((await loc.textContent()).trim()), { what: `error ${pattern} next to ${field}` });
  return (await loc.textContent()).trim();
}

// ---- citizen ----------------------------------------------------------------------------

export async function fileReport(env, page, { title, privacy = 'publik', badPhoneFirst = true, photo = true } = {}) {
  await page.goto(`${env.web}#/lapor`);
  await heading(page, 'Buat laporan');
  await page.getByLabel('Kecamatan').locator('option', { hasText: 'Lembang' }).waitFor({ state: 'attached' });
  await evidence(env, page, 'lapor-kosong');

  // Client-side checks first: an empty form shows errors next to the fields and a summary.
  await page.getByRole('button', { name: 'Kirim laporan' }).click();
  await page.locator('.error-summary').waitFor();
  assert.match(await fieldError(page, 'title'), /minimal 5/);
  assert.match(await fieldError(page, 'location.kecamatan'), /kecamatan/i);
  assert.equal(await page.getByLabel('Judul').getAttribute('aria-invalid'), 'true');
  await evidence(env, page, 'lapor-galat-klien');

  await page.getByRole('radio', { name: /^Pengaduan/ }).check();
  await page.getByLabel('Judul').fill(title);
  await page.getByLabel('Uraian').fill('Jalan di depan SDN 1 Cikole berlubang sedalam 20 cm sejak dua minggu. '
    + 'Sudah dua pengendara motor jatuh. Mohon segera diperbaiki.');
  await page.getByLabel('Tanggal kejadian').fill(todayWib());
  await page.getByLabel('Kecamatan').selectOption({ label: 'Lembang' });
  await page.getByLabel('Desa/kelurahan').selectOption({ label: 'Cikole' });
  await page.getByLabel('Alamat atau patokan').fill('Jl. Raya Tangkuban Parahu, depan SDN 1 Cikole');
  await page.getByRole('button', { name: 'Gunakan lokasi saya' }).click();
  await until(async () => (await page.getByLabel('Lintang (latitude)').inputValue()) !== '', { what: 'geolocation' });
  assert.equal(await page.getByLabel('Lintang (latitude)').inputValue(), '-6.790123');
  // The point is in Lembang: the kecamatan is picked (here: kept) from the nearest centre, and the map shows it.
  await page.getByText('Kecamatan dipilih otomatis: Lembang').waitFor();
  assert.equal(await page.getByLabel('Kecamatan').inputValue(), 'lembang');
  await page.locator('.map .leaflet-marker-icon').waitFor();
  await page.getByRole('radio', { name: new RegExp(`^${privacy[0].toUpperCase()}${privacy.slice(1)}`) }).check();
  await page.getByLabel('Nama', { exact: true }).fill('Asep Sunandar');
  await page.getByLabel('Email').fill('asep@example.id');
  await page.getByLabel('Nomor HP').fill(badPhoneFirst ? '12' : '0812-3456-7890');
  if (photo) {
    await page.getByLabel('Lampiran foto atau PDF').setInputFiles(PHOTO);
    await page.locator('.file-list .file-state.ok').waitFor({ timeout: 30000 });
  }

  if (badPhoneFirst) {
    // The server's validation error lands next to the phone field (details: reporter.phone).
    await page.getByRole('button', { name: 'Kirim laporan' }).click();
    // The API detail, phrased in Indonesian, next to the field (the earlier client errors are gone).
    await fieldError(page, 'reporter.phone', /Nomor HP tidak valid/);
    assert.equal(await page.locator('[data-field="title"] .field-error').textContent(), '');
    assert.equal(await page.getByLabel('Nomor HP').getAttribute('aria-invalid'), 'true');
    await evidence(env, page, 'lapor-galat-api');
    await page.getByLabel('Nomor HP').fill('0812-3456-7890');
  }
  await evidence(env, page, 'lapor-terisi');
  await page.getByRole('button', { name: 'Kirim laporan' }).click();
  await heading(page, 'Laporan terkirim');
  const tracking_id = (await page.locator('#res-tracking').textContent()).trim();
  const access_token = (await page.locator('#res-token').textContent()).trim();
  assert.ok(tracking_id && access_token, 'tracking number and token shown');
  await page.getByRole('button', { name: 'Salin nomor laporan' }).click();
  await page.getByText('Nomor laporan disalin.').waitFor();
  await page.getByRole('button', { name: 'Salin kode akses' }).click();
  await page.getByText('Kode akses disalin.').waitFor();
  await evidence(env, page, 'lapor-terkirim');
  return { tracking_id, access_token };
}

export async function track(env, page, creds, { expectStatus, name }) {
  await page.goto(`${env.web}#/lacak`);
  await heading(page, 'Lacak laporan');
  await page.getByLabel('Nomor laporan').fill(creds.tracking_id);
  await page.getByLabel('Kode akses').fill(creds.access_token);
  await page.getByRole('button', { name: 'Lihat laporan' }).click();
  if (expectStatus) await page.locator('#lacak-result .badge', { hasText: expectStatus }).waitFor();
  if (name) await evidence(env, page, name);
}

export async function confirmResolved(env, page, creds, answer) {
  await track(env, page, creds, { expectStatus: 'Sudah ditanggapi' });
  await page.locator('.timeline', { hasText: answer }).waitFor();
  await evidence(env, page, 'lacak-ada-tanggapan');
  await page.locator('input[name="resolved"][value="true"]').check();
  await page.locator('input[name="rating"][value="5"]').check();
  await page.getByLabel('Komentar').fill('Jalan sudah ditambal. Terima kasih.');
  await page.getByRole('button', { name: 'Kirim penilaian' }).click();
  await page.getByText('Laporan ditutup sebagai selesai').waitFor();
  await page.locator('#lacak-result .badge', { hasText: 'Selesai' }).waitFor();
  await evidence(env, page, 'lacak-selesai');
}

// ---- staff ------------------------------------------------------------------------------

export async function signIn(env, page, token, label) {
  await page.goto(`${env.web}#/staf/masuk`);
  await heading(page, 'Masuk staf');
  await page.getByLabel('Token staf (JWT)').fill(token);
  await page.getByRole('button', { name: 'Masuk', exact: true }).click();
  await heading(page, 'Kotak masuk');
  if (label) await evidence(env, page, label);
}

async function openFromInbox(env, page, tab, title) {
  await page.goto(`${env.web}#/staf?tab=${tab}`);
  await heading(page, 'Kotak masuk');
  const link = page.getByRole('link', { name: title });
  await link.waitFor();
  await link.click();
  await heading(page, title);
}

/** Open an action's form, fill it, send; wait for the success flash. */
export async function act(page, action, fill = async () => {}, done) {
  const box = page.locator(`details[data-action="${action}"]`);
  await box.locator('summary').click();
  await fill(box);
  await box.locator('button[type="submit"]').click();
  if (done) await page.locator('#flash', { hasText: done }).waitFor();
}

export async function adminVerifies(env, page, title, opdCode) {
  await openFromInbox(env, page, 'verifikasi', title);
  await evidence(env, page, 'admin-laporan-baru');
  let chosen;
  await act(page, 'verify', async (box) => {
    const sel = box.getByLabel('OPD tujuan');
    if (opdCode && await sel.locator(`option[value="${opdCode}"]`).count()) await sel.selectOption(opdCode);
    else await sel.selectOption({ index: 1 });
    chosen = await sel.inputValue();
    await box.getByLabel('Klasifikasi').selectOption('tidak_berkadar_pengawasan');
    await box.getByLabel('Catatan untuk OPD').fill('Mohon dicek ke lokasi.');
    await evidence(env, page, 'admin-form-verifikasi');
  }, 'Laporan diverifikasi');
  await page.locator('.meta .badge', { hasText: 'Diteruskan ke OPD' }).waitFor();
  await evidence(env, page, 'admin-terverifikasi');
  return chosen;
}

export async function opdAnswers(env, page, title, answer) {
  await openFromInbox(env, page, 'baru', title);
  await evidence(env, page, 'opd-laporan-masuk');
  await act(page, 'accept', undefined, 'Laporan diterima');
  await page.locator('.meta .badge', { hasText: 'Sedang diproses' }).waitFor();
  await act(page, 'respond', async (box) => {
    await box.getByLabel('Tanggapan untuk pelapor').fill(answer);
    await box.getByLabel('Lampiran tanggapan').setInputFiles([PHOTO, PDF]);
    await until(async () => (await box.locator('.file-state.ok').count()) === 2, { what: 'response uploads', timeout: 30000 });
    await evidence(env, page, 'opd-form-tanggapan');
  }, 'Tanggapan dikirim');
  await page.locator('.meta .badge', { hasText: 'Sudah ditanggapi' }).waitFor();
  await evidence(env, page, 'opd-sudah-menanggapi');
}

export async function scoreboard(env, page, opdCode, { timeout = 90000 } = {}) {
  // The scoreboard is fed asynchronously (events stream -> queue -> consumer, through the local
  // pump): reload the page until the OPD's row counts the report, or time out.
  const row = page.locator(`table tbody tr[data-opd="${opdCode}"]`);
  const end = Date.now() + timeout;
  let cells = [];
  let headers = [];
  const col = (label) => Number((cells[headers.indexOf(label)] || '0').replace(/\./g, '').replace(',', '.'));
  for (let attempt = 0; ; attempt += 1) {
    if (attempt === 0) await page.goto(`${env.web}#/staf/kinerja`);
    else await page.reload();
    await heading(page, 'Kinerja OPD');
    await page.locator('table').waitFor({ timeout: 10000 }).catch(() => {}); // none yet on an empty month
    if ((await row.count()) > 0) {
      cells = await row.locator('th, td').allTextContents();
      headers = await page.$$eval('table thead th', (ths) => ths.map((t) => t.textContent.trim()));
      if (col('Diterima') >= 1 && col('Ditanggapi') >= 1) break;
    }
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  await page.locator('svg.chart').waitFor();
  await row.waitFor({ timeout: 1000 });
  assert.ok(col('Diterima') >= 1, `received >= 1 for ${opdCode}: ${cells}`);
  assert.ok(col('Ditanggapi') >= 1, `responded >= 1 for ${opdCode}: ${cells}`);
  await evidence(env, page, 'kinerja');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Unduh CSV' }).click()]);
  const file = `${env.art.dir}/kinerja.csv`;
  await download.saveAs(file);
  const csv = fs.readFileSync(file, 'utf8');
  assert.match(csv, new RegExp(opdCode), 'CSV lists the OPD');
  return { cells, headers };
}

// ---- layout and keyboard ----------------------------------------------------------------

export async function mobileChecks(env, page, routes) {
  await page.setViewportSize({ width: 360, height: 740 });
  const problems = [];
  for (const r of routes) {
    await page.goto(`${env.web}${r}`);
    await page.locator('h1').first().waitFor();
    await page.waitForLoadState('networkidle').catch(() => {});
    const over = await horizontalOverflow(page);
    if (over) problems.push(`${r}: ${over}`);
  }
  // The form: every control reachable by keyboard, with visible focus.
  await page.goto(`${env.web}#/lapor`);
  await page.getByLabel('Kecamatan').locator('option', { hasText: 'Lembang' }).waitFor({ state: 'attached' });
  const kb = await keyboardReach(page);
  problems.push(...kb.map((p) => `#/lapor keyboard: ${p}`));
  await env.art.shot(page, 'lapor-360px');
  // Errors shown must not widen the page either.
  await page.getByRole('button', { name: 'Kirim laporan' }).click();
  await page.locator('.error-summary').waitFor();
  const over = await horizontalOverflow(page);
  if (over) problems.push(`#/lapor with errors: ${over}`);
  await env.art.shot(page, 'lapor-360px-galat');
  await page.setViewportSize({ width: 1280, height: 900 });
  return problems;
}
