// Browser tests of web/ against mock_api.py: no backend needed. Run: node --test mock.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  artifacts, freePort, horizontalOverflow, launch, PYTHON, serveWeb, start, stopAll, waitForHttp, mockToken, postJson,
} from './lib.mjs';
import {
  act, adminVerifies, confirmResolved, evidence, fileReport, mobileChecks, opdAnswers, scoreboard, signIn, track,
} from './flow.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const env = { axeFailures: [] };
let browser;

const token = (role, opd) => mockToken(env.api, role, opd);
const apiPost = (p, body, headers) => postJson(env.api, p, body, headers);

describe('web client against the mock API', { timeout: 420000 }, () => {
  before(async () => {
    const [webPort, apiPort] = [await freePort(), await freePort()];
    env.api = `http://127.0.0.1:${apiPort}`;
    env.web = await serveWeb(webPort, { api: env.api });
    start(PYTHON, [path.join(here, 'mock_api.py'), '--port', String(apiPort)], { name: 'mock-api' });
    await waitForHttp(`${env.api}/health`);
    browser = await launch({ apiBase: env.api });
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('citizen files with a photo, admin verifies, OPD accepts and answers, citizen confirms, scoreboard counts it', async () => {
    env.art = artifacts('mock-flow');
    const citizen = await browser.context.newPage();
    const title = `Jalan berlubang di Cikole ${Date.now() % 100000}`;
    const creds = await fileReport(env, citizen, { title });

    const admin = await browser.context.newPage();
    await signIn(env, admin, await token('admin'), 'admin-kotak-masuk');
    const opd = await adminVerifies(env, admin, title, 'DPUPR');
    assert.equal(opd, 'DPUPR');

    await track(env, citizen, creds, { expectStatus: 'Diteruskan ke OPD', name: 'lacak-diteruskan' });

    const officer = await browser.context.newPage();
    await signIn(env, officer, await token('opd', opd), 'opd-kotak-masuk');
    const answer = 'Lubang sudah ditambal oleh tim DPUPR pada hari ini. Terima kasih atas laporannya.';
    await opdAnswers(env, officer, title, answer);

    await confirmResolved(env, citizen, creds, answer);
    await scoreboard(env, admin, opd);
    await Promise.all([citizen.close(), admin.close(), officer.close()]);
  });

  it('shows a version conflict and an invalid transition as plain Indonesian messages', async () => {
    env.art = artifacts('mock-konflik');
    const created = await apiPost('/reports', {
      type: 'aspirasi', title: 'Usul lampu jalan di Ngamprah', description: 'Mohon dipasang lampu jalan di gang menuju pasar Ngamprah.',
      location: { kecamatan: 'ngamprah' }, privacy: 'anonim', reporter: {},
    });
    assert.equal(created.status, 201);
    const id = created.body.tracking_id;
    const page = await browser.context.newPage();
    await signIn(env, page, await token('admin'));
    await page.goto(`${env.web}#/staf/laporan/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Usul lampu jalan di Ngamprah' }).waitFor();
    await page.getByText('Identitas pelapor disembunyikan (anonim).').waitFor();

    // Someone else changes the report meanwhile: the page still holds version 1.
    const admin = await token('admin');
    const bump = await apiPost(`/staff/reports/${id}/actions`, { action: 'note', message: 'dicek' }, { Authorization: `Bearer ${admin}`, 'If-Match': '1' });
    assert.equal(bump.status, 200);
    await act(page, 'verify', async (box) => { await box.getByLabel('OPD tujuan').selectOption('DLH'); });
    await page.getByText('sudah diubah orang lain').waitFor();
    await evidence(env, page, 'konflik-versi');
    await page.getByRole('button', { name: 'Muat ulang laporan' }).click();
    await page.locator('#flash', { hasText: 'Laporan dimuat ulang' }).waitFor();

    // An invalid transition (answered by the server) is explained, not shown as a code.
    await page.route('**/actions', (route) => route.fulfill({
      status: 409, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'invalid_transition', message: 'verify is not allowed in status didisposisikan', details: [] } }),
    }));
    await act(page, 'request_info', async (box) => { await box.getByLabel('Pesan ke pelapor').fill('Mohon sebutkan nama gangnya.'); });
    await page.getByText('tidak dapat dilakukan pada status laporan saat ini').waitFor();
    await evidence(env, page, 'transisi-tidak-sah');
    await page.unroute('**/actions');

    // The real request for information, then the reporter's reply sends it back to verification.
    await page.getByRole('button', { name: 'Muat ulang laporan' }).click();
    await page.getByText('tidak dapat dilakukan pada status laporan saat ini').waitFor({ state: 'detached' });
    await act(page, 'request_info', async (box) => { await box.getByLabel('Pesan ke pelapor').fill('Mohon sebutkan nama gangnya.'); }, 'Permintaan kelengkapan dikirim');
    const citizen = await browser.context.newPage();
    await track(env, citizen, created.body, { expectStatus: 'Perlu kelengkapan' });
    await citizen.getByLabel('Keterangan tambahan').fill('Gang Melati, RT 02/RW 05.');
    await evidence(env, citizen, 'lacak-perlu-kelengkapan');
    await citizen.getByRole('button', { name: 'Kirim kelengkapan' }).click();
    await citizen.getByText('Kelengkapan terkirim').waitFor();
    await citizen.locator('#lacak-result .badge', { hasText: 'Diajukan' }).waitFor();

    // An anonymous reporter who left a contact: hidden from the admin until an audited reveal.
    const anon = await apiPost('/reports', {
      type: 'pengaduan', title: 'Pungutan liar di kantor desa', description: 'Ada pungutan Rp50.000 untuk surat pengantar di kantor desa.',
      location: { kecamatan: 'cililin' }, privacy: 'anonim', category: 'adminduk',
      reporter: { name: 'Siti Aminah', phone: '081234567891', nik: '3217014507900003' },
    });
    assert.equal(anon.status, 201);
    await page.goto(`${env.web}#/staf/laporan/${anon.body.tracking_id}`);
    await page.getByText('Pelapor memilih Anonim').waitFor();
    assert.equal(await page.getByText('Siti Aminah').count(), 0);
    assert.equal(await page.locator('details[data-action="verify"] select[name="opd_code"]').inputValue(), 'DISDUKCAPIL', 'suggested OPD preselected');
    // A link never reveals: the old ?reveal= URL shows the hidden reporter and records nothing.
    await page.goto(`${env.web}#/staf/laporan/${anon.body.tracking_id}?reveal=identity,nik`);
    await page.getByText('Pelapor memilih Anonim').waitFor();
    assert.equal(await page.getByText('Siti Aminah').count(), 0);
    assert.equal(await page.locator('.timeline', { hasText: 'Identitas pelapor dibuka' }).count(), 0);
    // The button asks why first; "Batal" discloses nothing, a short reason is refused in place.
    await page.getByRole('button', { name: 'Tampilkan identitas pelapor' }).click();
    const confirm = page.locator('form.reveal-confirm[data-reveal="identity"]');
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Batal' }).click();
    assert.equal(await confirm.count(), 0);
    assert.equal(await page.getByText('Siti Aminah').count(), 0);
    await page.getByRole('button', { name: 'Tampilkan identitas pelapor' }).click();
    await confirm.locator('textarea').fill('cek');
    await confirm.getByRole('button', { name: 'Tampilkan' }).click();
    await confirm.locator('.field-error', { hasText: 'minimal 10 karakter' }).waitFor();
    assert.equal(await page.getByText('Siti Aminah').count(), 0);
    await confirm.locator('textarea').fill('Klarifikasi pungutan liar bersama Inspektorat.');
    await confirm.getByRole('button', { name: 'Tampilkan' }).click();
    await page.locator('#rep-h + dl', { hasText: 'Siti Aminah' }).waitFor();
    await page.getByRole('button', { name: 'Tampilkan NIK' }).click();
    const confirmNik = page.locator('form.reveal-confirm[data-reveal="nik"]');
    await confirmNik.locator('textarea').fill('Verifikasi kependudukan untuk Disdukcapil.');
    await confirmNik.getByRole('button', { name: 'Tampilkan' }).click();
    await page.locator('#rep-h + dl', { hasText: '3217014507900003' }).waitFor();
    await page.locator('.timeline', { hasText: 'Identitas pelapor dibuka' }).first().waitFor();
    await evidence(env, page, 'identitas-dibuka');

    // A wrong token is a plain "not found" next to the field.
    await track(env, citizen, { tracking_id: id, access_token: 'salah' }, {});
    await citizen.locator('[data-field="access_token"] .field-error', { hasText: 'tidak cocok' }).waitFor();
    await evidence(env, citizen, 'lacak-kode-salah');
    await Promise.all([page.close(), citizen.close()]);
  });

  it('lupa kode akses: tracking number and phone, the 6-digit code, a new grouped code that opens the report', async () => {
    env.art = artifacts('mock-pulih');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 780 });
    const { body: created } = await apiPost('/reports', {
      type: 'pengaduan', title: 'Lampu jalan mati di Cikole', privacy: 'publik',
      description: 'Lampu penerangan jalan di depan pasar Cikole mati sejak sepekan, jalan gelap di malam hari.',
      location: { kecamatan: 'lembang' }, reporter: { name: 'Asep Sunandar', phone: '0812-3456-7890' },
    });
    const tid = created.tracking_id;
    assert.match(created.access_token, /^[2-9A-HJKMNP-TV-Z]{4}(-[2-9A-HJKMNP-TV-Z]{4}){3}$/);
    await page.goto(`${env.web}#/lacak`);
    await page.getByLabel('Nomor laporan').fill(tid);
    await page.getByRole('button', { name: 'Lupa kode akses?' }).click();
    const box = page.locator('#pulih');
    assert.equal(await box.getByLabel('Nomor laporan').inputValue(), tid);  // carried over from the form above
    await box.getByLabel('Nomor HP atau email di laporan').fill('0812 3456 7890');
    await evidence(env, page, 'pulih-kontak');
    await box.getByRole('button', { name: 'Kirim kode pemulihan' }).click();
    await box.getByText('kode pemulihan 6 angka').waitFor();
    const sent = await (await fetch(`${env.api}/_mock/outbox/${tid}`)).json();
    const otp = sent.sent.at(-1).match(/\b(\d{6})\b/)[1];
    await box.getByLabel('Kode pemulihan (6 angka)').fill(otp === '000000' ? '111111' : '000000');
    await box.getByRole('button', { name: 'Buat kode akses baru' }).click();
    await box.locator('.field-error', { hasText: 'Kode pemulihan salah' }).waitFor();
    await evidence(env, page, 'pulih-kode-salah');
    await box.getByLabel('Kode pemulihan (6 angka)').fill(otp);
    await box.getByRole('button', { name: 'Buat kode akses baru' }).click();
    const shown = (await box.locator('#kode-baru').textContent()).trim();
    assert.match(shown, /^[2-9A-HJKMNP-TV-Z]{4}(-[2-9A-HJKMNP-TV-Z]{4}){3}$/);
    assert.notEqual(shown, created.access_token);
    await box.getByText('juga telah dikirim ke nomor HP/email Anda').waitFor();
    await page.locator('#lacak-result .badge', { hasText: 'Diajukan' }).waitFor();  // the new code opened it
    await evidence(env, page, 'pulih-kode-baru');
    assert.equal(await horizontalOverflow(page), null);  // 360 px: the grouped code fits
    // The old code no longer opens the report; the new one does, typed in lower case.
    const again = await browser.context.newPage();
    await track(env, again, { tracking_id: tid, access_token: created.access_token }, {});
    await again.locator('[data-field="access_token"] .field-error', { hasText: 'tidak cocok' }).waitFor();
    await track(env, again, { tracking_id: tid, access_token: shown.toLowerCase() }, { expectStatus: 'Diajukan' });
    await Promise.all([page.close(), again.close()]);
  });

  it('a report without contact is told at submission that the code is the only key', async () => {
    const { body: created } = await apiPost('/reports', {
      type: 'pengaduan', title: 'Pungutan liar di pasar', privacy: 'anonim',
      description: 'Ada pungutan tanpa karcis setiap pagi di pintu masuk pasar, mohon ditertibkan segera.',
      location: { kecamatan: 'lembang' }, reporter: {},
    });
    assert.equal(created.access_code_recoverable, false);
    assert.match(created.access_notice, /satu-satunya kunci/);
  });

  it('every other page passes axe (statistics, sign-in, inboxes, pimpinan)', async () => {
    env.art = artifacts('mock-halaman');
    const page = await browser.context.newPage();
    for (const [route, name] of [['#/', 'beranda'], ['#/statistik', 'statistik'], ['#/staf/masuk', 'masuk'], ['#/lacak', 'lacak-kosong']]) {
      await page.goto(`${env.web}${route}`);
      await page.locator('h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      if (name === 'statistik') await page.locator('svg.chart').first().waitFor();
      await evidence(env, page, name);
    }
    await signIn(env, page, await token('pimpinan'));
    for (const tab of ['terlambat', 'didisposisikan', 'selesai']) {
      await page.goto(`${env.web}#/staf?tab=${tab}`);
      await page.waitForLoadState('networkidle');
      await evidence(env, page, `pimpinan-${tab}`);
    }
    await page.goto(`${env.web}#/staf/kinerja`);
    await page.locator('table').waitFor();
    await evidence(env, page, 'pimpinan-kinerja');
    await page.close();
  });

  it('360 px wide: no horizontal scroll on any page; every form control reachable by keyboard', async () => {
    env.art = artifacts('mock-360');
    const page = await browser.context.newPage();
    const problems = await mobileChecks(env, page, ['#/', '#/lapor', '#/lacak', '#/statistik', '#/staf/masuk']);
    await signIn(env, page, await token('admin'));
    await page.setViewportSize({ width: 360, height: 740 });
    const { horizontalOverflow } = await import('./lib.mjs');
    for (const r of ['#/staf?tab=verifikasi', '#/staf?tab=terlambat', '#/staf/kinerja']) {
      await page.goto(`${env.web}${r}`);
      await page.waitForLoadState('networkidle');
      const over = await horizontalOverflow(page);
      if (over) problems.push(`${r}: ${over}`);
      await env.art.shot(page, `360-${r.replace(/[^a-z]/g, '-')}`);
    }
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('Cognito sign-in: hosted UI with PKCE, role from cognito:groups, sign-out through /logout', async () => {
    env.art = artifacts('mock-cognito');
    const pkce = await launch({ apiBase: env.api, auth: { mode: 'cognito', domain: env.api, clientId: 'web-client', flow: 'pkce' } });
    try {
      const page = await pkce.context.newPage();
      await page.goto(`${env.web}#/staf`);
      await page.getByRole('heading', { level: 1, name: 'Masuk staf' }).waitFor();
      await evidence(env, page, 'cognito-masuk');
      await page.getByRole('button', { name: 'Masuk dengan akun Pemkab KBB' }).click();
      await page.getByRole('heading', { level: 1, name: 'Kotak masuk' }).waitFor();
      assert.equal(new URL(page.url()).search, '', 'the code is removed from the address');
      await page.getByText('Admin Diskominfotik').first().waitFor();
      await page.getByRole('link', { name: 'Kinerja OPD' }).waitFor();
      await evidence(env, page, 'cognito-kotak-masuk');
      await page.getByRole('button', { name: 'Keluar' }).click();
      await page.waitForURL((u) => !u.pathname.includes('logout'));
      await page.getByRole('link', { name: 'Masuk staf' }).waitFor();
      // A crafted redirect cannot put its own words on the page: one fixed text, whatever the cause.
      await page.goto(`${env.web}?error=access_denied&error_description=${encodeURIComponent('Akun diblokir, telepon 0899-1234-5678')}#/staf`);
      await page.getByText('Masuk gagal. Silakan coba lagi; bila tetap gagal, hubungi admin Diskominfotik.').waitFor();
      assert.equal(await page.getByText('Akun diblokir').count(), 0);
      assert.deepEqual(pkce.problems, []);
    } finally {
      await pkce.close();
    }
    const implicit = await launch({ apiBase: env.api, auth: { mode: 'cognito', domain: env.api, clientId: 'web-client', flow: 'implicit' } });
    try {
      const page = await implicit.context.newPage();
      await page.goto(`${env.web}#/staf/masuk`);
      await page.getByRole('button', { name: 'Masuk dengan akun Pemkab KBB' }).click();
      await page.getByRole('heading', { level: 1, name: 'Kotak masuk' }).waitFor();
      assert.match(new URL(page.url()).hash, /^#\/staf/);
      assert.deepEqual(implicit.problems, []);
    } finally {
      await implicit.close();
    }
  });

  it('axe found no serious or critical violation, and no page threw', () => {
    assert.deepEqual(env.axeFailures, []);
    assert.deepEqual(browser.problems, []);
  });
});
