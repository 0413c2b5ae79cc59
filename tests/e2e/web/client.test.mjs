// The web client's flows in Chromium against the real local stack (the API, its workflow and
// working days, S3 uploads, the fan-out). run.sh starts a stack on free ports; `make run` works too:
//   node --test client.test.mjs                 uses the stack at LAPOR_API_PORT/LAPOR_WEB_PORT or 8000/8080
//   START_STACK=1 node --test client.test.mjs   starts one when none answers
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  artifacts, horizontalOverflow, hostedUi, launch, localStack, outbox, postJson, staffToken, stopAll, until,
} from './lib.mjs';
import { roleOf } from '../../../web/js/auth.js';
import {
  act, adminVerifies, confirmResolved, evidence, fileReport, mobileChecks, opdAnswers, scoreboard, signIn, track,
} from './flow.mjs';

const env = { axeFailures: [] };
let browser;

const token = staffToken;
const apiPost = (p, body, headers) => postJson(env.api, p, body, headers);

describe('web client against the local stack', { timeout: 600000 }, () => {
  before(async () => {
    Object.assign(env, await localStack());
    // No config override: the page reads web/config.js and the stack's config.local.js, as a
    // person's browser does.
    browser = await launch();
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('citizen files with a photo, admin verifies, OPD accepts and answers, citizen confirms, scoreboard counts it', async () => {
    env.art = artifacts('client-flow');
    const citizen = await browser.context.newPage();
    const title = `Jalan berlubang di Cikole ${Date.now() % 1000000}`;
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
    env.art = artifacts('client-konflik');
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
    await page.getByText('Pelapor memilih Anonim: identitasnya disembunyikan.').waitFor();

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

  it('the desk enters a walk-in complaint; the citizen follows it with the code; the inbox filters by channel', async () => {
    env.art = artifacts('client-catat');
    const page = await browser.context.newPage();
    await signIn(env, page, await token('admin'));
    await page.getByRole('link', { name: 'Catat laporan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Catat laporan' }).waitFor();
    await page.getByLabel('Kecamatan').locator('option', { hasText: 'Cililin' }).waitFor({ state: 'attached' });
    // Nothing chosen: the form says what is missing, in place.
    await page.getByRole('button', { name: 'Simpan laporan' }).click();
    await page.locator('[data-field="channel"] .field-error', { hasText: 'Pilih saluran' }).waitFor();
    const title = `Warga datang: jembatan retak di Cililin ${Date.now() % 1000000}`;
    await page.getByLabel('Saluran').selectOption('walk_in');
    await page.getByLabel('Judul').fill(title);
    await page.getByLabel('Uraian').fill('Pak Ujang datang ke kantor: jembatan gantung di kampung Cibitung retak dan bergoyang.');
    await page.getByLabel('Kecamatan').selectOption('cililin');
    await page.getByLabel('Nama').fill('Ujang Suryana');
    await page.getByLabel('Nomor HP').fill('0812-3456-1122');
    await page.getByRole('button', { name: 'Simpan laporan' }).click();
    await page.getByRole('heading', { level: 2, name: 'Laporan tersimpan' }).waitFor();
    const creds = {
      tracking_id: (await page.locator('#catat-tracking').textContent()).trim(),
      access_token: (await page.locator('#catat-token').textContent()).trim(),
    };
    await evidence(env, page, 'catat-tersimpan');

    const citizen = await browser.context.newPage();
    await track(env, citizen, creds, { expectStatus: 'Diajukan', name: 'catat-lacak' });

    await page.goto(`${env.web}#/staf?tab=verifikasi&channel=walk_in`);
    await page.getByRole('link', { name: title }).waitFor();
    assert.equal(await page.getByLabel('Saluran').inputValue(), 'walk_in');
    assert.ok(await page.locator('.cards li').count() >= 1);
    for (const item of await page.locator('.cards li').allInnerTexts()) assert.match(item, /Datang langsung/);
    await evidence(env, page, 'kotak-masuk-saluran');
    await page.getByLabel('Saluran').selectOption('sms');
    await page.waitForURL(/channel=sms/);
    await page.locator('#view [role="status"]').filter({ hasText: /laporan|Tidak ada/ }).first().waitFor();
    assert.equal(await page.getByRole('link', { name: title }).count(), 0, 'a walk-in report is not an SMS one');
    await page.goto(`${env.web}#/staf/laporan/${creds.tracking_id}`);
    await page.locator('dl', { hasText: 'Datang langsung' }).first().waitFor();
    // The monthly review counts reports per channel (public counts, cached for a minute).
    await until(async () => {
      await page.goto(`${env.web}#/staf/kinerja?r=${Date.now()}`);
      const section = page.locator('section[aria-labelledby="saluran-h"]');
      await section.or(page.getByText('Belum ada laporan masuk')).first().waitFor();
      return (await section.count()) && /Datang langsung/.test(await section.innerText());
    }, { timeout: 90000, what: 'the walk-in report counted per channel' });
    await evidence(env, page, 'kinerja-saluran');
    await Promise.all([page.close(), citizen.close()]);
  });

  it('a canned answer fills the request for information, which the officer edits before sending', async () => {
    env.art = artifacts('client-templat');
    const created = await apiPost('/reports', {
      type: 'pengaduan', title: 'Jalan berlubang dekat pasar', description: 'Lubang besar di jalan dekat pasar, sudah dua minggu dan membahayakan.',
      location: { kecamatan: 'lembang' }, category: 'jalan_rusak', privacy: 'anonim', reporter: {},
    });
    assert.equal(created.status, 201);
    const page = await browser.context.newPage();
    await signIn(env, page, await token('admin'));
    await page.goto(`${env.web}#/staf/laporan/${created.body.tracking_id}`);
    await page.getByRole('heading', { level: 1, name: 'Jalan berlubang dekat pasar' }).waitFor();
    await act(page, 'request_info', async (box) => {
      const picker = box.getByLabel('Jawaban siap pakai');
      const offered = await picker.locator('option').allTextContents();
      assert.equal(offered[1], 'Minta nama ruas jalan', `the category's own first: ${offered}`);
      assert.ok(offered.includes('Minta lokasi yang lebih jelas'), 'and the general ones');
      await picker.selectOption({ label: 'Minta nama ruas jalan' });
      const message = box.getByLabel('Pesan ke pelapor');
      assert.match(await message.inputValue(), /^Mohon sebutkan nama ruas jalan/);
      await message.fill(`${await message.inputValue()} Terima kasih.`);
      await evidence(env, page, 'templat-dipilih');
    }, 'Permintaan kelengkapan dikirim');
    const citizen = await browser.context.newPage();
    await track(env, citizen, created.body, { expectStatus: 'Perlu kelengkapan' });
    await citizen.locator('.timeline', { hasText: 'nama ruas jalan' }).waitFor();
    await citizen.locator('.timeline', { hasText: 'Terima kasih.' }).waitFor();
    await Promise.all([page.close(), citizen.close()]);
  });

  it('lupa kode akses: tracking number and phone, the 6-digit code, a new grouped code that opens the report', async () => {
    env.art = artifacts('client-pulih');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 780 });
    const phone = `0812${String(Date.now() % 100000000).padStart(8, '0')}`;
    const { body: created } = await apiPost('/reports', {
      type: 'pengaduan', title: 'Lampu jalan mati di Cikole', privacy: 'publik',
      description: 'Lampu penerangan jalan di depan pasar Cikole mati sejak sepekan, jalan gelap di malam hari.',
      location: { kecamatan: 'lembang' }, reporter: { name: 'Asep Sunandar', phone },
    });
    const tid = created.tracking_id;
    assert.match(created.access_token, /^[2-9A-HJKMNP-TV-Z]{4}(-[2-9A-HJKMNP-TV-Z]{4}){3}$/);
    await page.goto(`${env.web}#/lacak`);
    await page.getByLabel('Nomor laporan').fill(tid);
    await page.getByRole('button', { name: 'Lupa kode akses?' }).click();
    const box = page.locator('#pulih');
    assert.equal(await box.getByLabel('Nomor laporan').inputValue(), tid);  // carried over from the form above
    await box.getByLabel('Nomor HP atau email di laporan').fill(phone.replace(/(\d{4})(\d{4})/, '$1 $2 '));
    await evidence(env, page, 'pulih-kontak');
    await box.getByRole('button', { name: 'Kirim kode pemulihan' }).click();
    await box.getByText('kode pemulihan 6 angka').waitFor();
    const e164 = `+62${phone.slice(1)}`;
    const sms = await until(async () => (await outbox()).filter((m) => m.channel === 'sms' && m.to.includes(e164)
      && /\b\d{6}\b/.test(m.body || '') && /pemulihan/i.test(m.body || '')).at(-1), { timeout: 60000, what: 'the recovery SMS' });
    const otp = sms.body.match(/\b(\d{6})\b/)[1];
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
    env.art = artifacts('client-halaman');
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
    env.art = artifacts('client-360');
    const page = await browser.context.newPage();
    const problems = await mobileChecks(env, page, ['#/', '#/lapor', '#/lacak', '#/statistik', '#/staf/masuk']);
    await signIn(env, page, await token('admin'));
    await page.setViewportSize({ width: 360, height: 740 });
    const { horizontalOverflow } = await import('./lib.mjs');
    for (const r of ['#/staf?tab=verifikasi', '#/staf?tab=terlambat', '#/staf/kinerja', '#/staf/catat']) {
      await page.goto(`${env.web}${r}`);
      await page.waitForLoadState('networkidle');
      const over = await horizontalOverflow(page);
      if (over) problems.push(`${r}: ${over}`);
      await env.art.shot(page, `360-${r.replace(/[^a-z]/g, '-')}`);
    }
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('Cognito\'s groups and custom OPD attribute give the role the pages offer', () => {
    // The stack signs local tokens (a `role` claim); Cognito's ID tokens carry groups instead.
    assert.deepEqual(roleOf({ 'cognito:groups': ['staf-lama', 'opd'], 'custom:opd_code': 'DPUPR' }), { role: 'opd', opd: 'DPUPR' });
    assert.deepEqual(roleOf({ 'cognito:groups': ['admin'] }), { role: 'admin', opd: null });
    assert.deepEqual(roleOf({ 'cognito:groups': ['Admin'] }), { role: null, opd: null });
  });

  it('Cognito sign-in: hosted UI with PKCE or implicit, sign-out through /logout', async () => {
    env.art = artifacts('client-cognito');
    // The hosted UI is answered in the browser on the API's origin, which the CSP already allows.
    const pkce = await launch({ apiBase: env.api, auth: { mode: 'cognito', domain: env.api, clientId: 'web-client', flow: 'pkce' } });
    await hostedUi(pkce.context, env.api);
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
    await hostedUi(implicit.context, env.api);
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

  it('OPD posts progress with a planned date, asks the reporter, hands back with a reason code; the reporter sees it at 360 px', async () => {
    env.art = artifacts('client-perkembangan');
    const { horizontalOverflow } = await import('./lib.mjs');
    const created = await apiPost('/reports', {
      type: 'pengaduan', title: 'Lampu jalan mati di Padalarang', description: 'Tiga lampu jalan mati di depan terminal Padalarang sejak seminggu.',
      location: { kecamatan: 'padalarang' }, privacy: 'publik', reporter: { name: 'Dewi Lestari', phone: '081234567892' },
    });
    assert.equal(created.status, 201);
    const id = created.body.tracking_id;
    const admin = { Authorization: `Bearer ${await token('admin')}` };
    assert.equal((await apiPost(`/staff/reports/${id}/actions`, { action: 'verify', opd_code: 'DPUPR' }, admin)).status, 200);

    const officer = await browser.context.newPage();
    await officer.setViewportSize({ width: 360, height: 740 });
    await signIn(env, officer, await token('opd', 'DPUPR'));
    await officer.goto(`${env.web}#/staf/laporan/${id}`);
    await officer.getByRole('heading', { level: 1, name: 'Lampu jalan mati di Padalarang' }).waitFor();
    const planned = new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10);
    await act(officer, 'progress', async (box) => {
      await box.getByLabel('Kabar perkembangan untuk pelapor').fill('Tim sudah survei; lampu pengganti sedang dipesan.');
      await box.getByLabel('Rencana selesai').fill(planned);
      await evidence(env, officer, 'opd-form-perkembangan');
    }, 'Kabar perkembangan dikirim');
    await officer.locator('.meta .badge', { hasText: 'Sedang diproses' }).waitFor();
    assert.equal(await horizontalOverflow(officer), null);

    // Hand-back offers the list of reasons (not typed free text alone).
    const back = officer.locator('details[data-action="return"]');
    await back.locator('summary').click();
    const reasons = await back.getByLabel('Jenis alasan').locator('option').allTextContents();
    assert.deepEqual(reasons.slice(1), ['Bukan wewenang OPD ini', 'Kewenangan pemerintah pusat atau provinsi',
      'Data laporan kurang', 'Duplikat laporan lain', 'Lainnya']);
    await back.locator('summary').click();

    const citizen = await browser.context.newPage();
    await citizen.setViewportSize({ width: 360, height: 740 });
    await track(env, citizen, created.body, { expectStatus: 'Sedang diproses' });
    await citizen.locator('.timeline li.progress-update', { hasText: 'lampu pengganti sedang dipesan' }).waitFor();
    await citizen.getByTestId('rencana-selesai').waitFor();
    assert.equal(await horizontalOverflow(citizen), null);
    await evidence(env, citizen, 'lacak-perkembangan');

    // The OPD asks the reporter; the reply goes back to the OPD, not to verification.
    await act(officer, 'request_info', async (box) => { await box.getByLabel('Pesan ke pelapor').fill('Mohon sebutkan nomor tiang lampunya.'); }, 'Permintaan kelengkapan dikirim');
    await track(env, citizen, created.body, { expectStatus: 'Perlu kelengkapan' });
    await citizen.getByLabel('Keterangan tambahan').fill('Tiang nomor 17, 18 dan 19.');
    await citizen.getByRole('button', { name: 'Kirim kelengkapan' }).click();
    await citizen.getByText('Kelengkapan terkirim').waitFor();
    await citizen.locator('#lacak-result .badge', { hasText: 'Sedang diproses' }).waitFor();
    await Promise.all([officer.close(), citizen.close()]);
  });

  it('the form pre-selects Rahasia for a sensitive category and says why; an admin can only raise privacy', async () => {
    env.art = artifacts('client-rahasia');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${env.web}#/lapor`);
    const category = page.getByLabel('Kategori');
    await category.locator('option[value="bansos"]').waitFor({ state: 'attached' });
    await category.selectOption('bansos');
    assert.equal(await page.locator('input[name="privacy"][value="rahasia"]').isChecked(), true);
    await page.getByText('Rahasia sudah dipilih').waitFor();
    await evidence(env, page, 'lapor-kategori-sensitif');
    // The reporter's own choice is kept: picking Publik then another sensitive category leaves it.
    await page.locator('input[name="privacy"][value="publik"]').check();
    await category.selectOption('layanan_kesehatan');
    assert.equal(await page.locator('input[name="privacy"][value="publik"]').isChecked(), true);
    await page.getByText('sebaiknya dikirim sebagai Rahasia').waitFor();
    await category.selectOption('sampah');
    assert.equal(await page.getByText('sebaiknya dikirim sebagai Rahasia').count(), 0);

    const created = await apiPost('/reports', {
      type: 'pengaduan', title: 'Bantuan sosial tidak sampai', description: 'Bantuan sosial bulan ini tidak diterima keluarga kami di Cililin.',
      location: { kecamatan: 'cililin' }, privacy: 'anonim', reporter: {},
    });
    assert.equal(created.status, 201);
    await signIn(env, page, await token('admin'));
    await page.goto(`${env.web}#/staf/laporan/${created.body.tracking_id}`);
    await page.getByRole('heading', { level: 1, name: 'Bantuan sosial tidak sampai' }).waitFor();
    const box = page.locator('details[data-action="verify"]');
    await box.locator('summary').click();
    const offered = await box.getByLabel('Naikkan kerahasiaan').locator('option').allTextContents();
    assert.equal(offered.length, 2); // "Tidak diubah" and Rahasia: never Publik for an anonim report
    await box.getByLabel('OPD tujuan').selectOption('DINSOS');
    await box.getByLabel('Naikkan kerahasiaan').selectOption('rahasia');
    await box.locator('button[type="submit"]').click();
    await page.locator('#flash', { hasText: 'Laporan diverifikasi' }).waitFor();
    await page.locator('.props dd', { hasText: 'Rahasia' }).first().waitFor();
    await page.close();
  });

  it('an OPD coordinator assigns a report to an officer, who finds it under "Tugas saya"; an admin corrects the data', async () => {
    env.art = artifacts('client-penugasan');
    const title = `Saluran tersumbat di Parongpong ${Date.now() % 1000000}`;
    const created = await apiPost('/reports', {
      type: 'pengaduan', title, description: 'Saluran air di depan sekolah tersumbat sampah sejak hujan kemarin.',
      location: { kecamatan: 'lembang' }, category: 'sampah', privacy: 'anonim', reporter: {},
    });
    assert.equal(created.status, 201);
    const id = created.body.tracking_id;
    const admin = { Authorization: `Bearer ${await token('admin')}` };
    assert.equal((await apiPost(`/staff/reports/${id}/actions`, { action: 'verify', opd_code: 'DPUPR' }, admin)).status, 200);

    // The coordinator (opd_admin) at 360 px: the OPD's own actions plus "Tugaskan ke petugas".
    const head = await browser.context.newPage();
    await head.setViewportSize({ width: 360, height: 740 });
    await signIn(env, head, await token('opd_admin', 'DPUPR'));
    await head.goto(`${env.web}#/staf/laporan/${id}`);
    await head.getByRole('heading', { level: 1, name: title }).waitFor();
    await head.locator('.props dd', { hasText: 'Belum ditugaskan' }).waitFor();
    await head.locator('details[data-action="accept"]').waitFor();
    await act(head, 'assign', async (box) => {
      const picker = box.locator('select[name="officer"]');
      await picker.locator('option[value="local-opd-dpupr"]').waitFor({ state: 'attached' });
      const offered = await picker.locator('option').allTextContents();
      assert.ok(offered.some((o) => o.startsWith('Petugas Satu DPUPR')), offered.join(' | '));
      assert.ok(offered.every((o) => !o.includes('DINSOS')), 'only the OPD\'s own officers');
      assert.ok(offered.slice(1).every((o) => o.includes('*')), 'phones are masked');
      await picker.selectOption('local-opd-dpupr');
      await box.getByLabel('Catatan untuk petugas').fill('Mohon cek lokasi hari ini.');
      assert.equal(await horizontalOverflow(head), null);
      await evidence(env, head, 'opd-admin-form-tugaskan');
    }, 'Laporan ditugaskan');
    await head.locator('.props dd', { hasText: 'Petugas Satu DPUPR' }).waitFor();
    await head.locator('.timeline', { hasText: 'Penugasan petugas' }).waitFor();
    assert.equal(await horizontalOverflow(head), null);

    // The officer (the default DPUPR opd token) finds it under "Tugas saya" and is told by email.
    const officer = await browser.context.newPage();
    await officer.setViewportSize({ width: 360, height: 740 });
    await signIn(env, officer, await token('opd', 'DPUPR'));
    await officer.getByRole('link', { name: 'Tugas saya' }).click();
    await officer.getByRole('heading', { level: 2, name: 'Tugas saya' }).waitFor();
    const card = officer.locator('li.card', { hasText: title });
    await card.waitFor();
    await card.getByText('Petugas: Petugas Satu DPUPR').waitFor();
    assert.equal(await horizontalOverflow(officer), null);
    await evidence(env, officer, 'opd-tugas-saya');
    await until(async () => (await outbox()).some((m) => String(m.to).includes('petugas1.dpupr@example.org')
      && String(m.subject).includes(id)), { what: 'the officer\'s email', timeout: 60000 });

    // The admin corrects kecamatan, desa and category; the desa list follows the kecamatan.
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    await signIn(env, page, await token('admin'));
    await page.goto(`${env.web}#/staf/laporan/${id}`);
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const box = page.locator('details[data-action="correct"]');
    await box.locator('summary').click();
    await box.locator('select[name="kecamatan"]').locator('option[value="parongpong"]').waitFor({ state: 'attached' });
    // Nothing changed: the server's Indonesian message, nothing stored.
    await box.locator('button[type="submit"]').click();
    await box.locator('.field-error', { hasText: 'tidak ada yang dikoreksi' }).waitFor();
    await box.locator('select[name="kecamatan"]').selectOption('parongpong');
    await box.locator('select[name="desa"] option[value="32.17.02.2002"]').waitFor({ state: 'attached' });
    assert.equal(await box.locator('select[name="desa"]').locator('option', { hasText: 'Pagerwangi' }).count(), 0);
    await box.locator('select[name="desa"]').selectOption('32.17.02.2002'); // Cihanjuang
    await box.locator('select[name="category"]').selectOption('drainase');
    await box.getByLabel('Alasan koreksi').fill('Lokasi sebenarnya di Cihanjuang, saluran drainase.');
    assert.equal(await horizontalOverflow(page), null);
    await evidence(env, page, 'admin-form-koreksi');
    await box.locator('button[type="submit"]').click();
    await page.locator('#flash', { hasText: 'Data laporan dikoreksi' }).waitFor();
    await page.locator('.props dd', { hasText: 'Cihanjuang' }).waitFor();
    await page.locator('.timeline', { hasText: 'Kecamatan: lembang → parongpong' }).waitFor();
    assert.equal(await horizontalOverflow(page), null);
    await evidence(env, page, 'admin-terkoreksi');
    await Promise.all([head.close(), officer.close(), page.close()]);
  });

  it('admin sees "Laporan serupa" with scores at 360 px and merges a duplicate into the first report', async () => {
    env.art = artifacts('client-serupa');
    const n = Date.now() % 1000000;
    const report = (title) => ({
      type: 'pengaduan', title, privacy: 'anonim', reporter: {},
      description: `Gorong-gorong di Kampung Cijambu ${n} tersumbat sampah, air meluap ke jalan setiap hujan.`,
      location: { kecamatan: 'saguling' },
    });
    const first = await apiPost('/reports', report(`Gorong-gorong tersumbat di Cijambu ${n}`));
    const second = await apiPost('/reports', report(`Saluran air tersumbat Cijambu ${n}`));
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    const primary = first.body.tracking_id;
    const dup = second.body.tracking_id;
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 780 });
    await signIn(env, page, await token('admin'));
    await page.goto(`${env.web}#/staf/laporan/${dup}`);
    await page.getByRole('heading', { level: 2, name: 'Laporan serupa' }).waitFor();
    const item = page.locator(`[data-similar="${primary}"]`);
    await item.waitFor();
    assert.match(await item.locator('[data-score]').textContent(), /^Skor \d+$/);
    assert.equal(await item.getByRole('link').getAttribute('href'), `#/staf/laporan/${encodeURIComponent(primary)}`);
    await evidence(env, page, 'serupa-daftar');
    assert.equal(await horizontalOverflow(page), null);
    page.once('dialog', (d) => d.accept());
    await item.getByRole('button', { name: 'Gabungkan ke laporan ini' }).click();
    await page.locator('#flash', { hasText: 'digabungkan ke laporan utama' }).waitFor();
    await page.locator(`[data-merged-into="${primary}"]`).waitFor();
    assert.equal(await page.getByRole('heading', { level: 2, name: 'Laporan serupa' }).count(), 0);
    await evidence(env, page, 'serupa-digabung');
    assert.equal(await horizontalOverflow(page), null);
    // The primary lists it; merging it again is refused by the API with the contract's error body.
    await page.goto(`${env.web}#/staf/laporan/${primary}`);
    await page.getByRole('link', { name: dup }).waitFor();
    const admin = await token('admin');
    const again = await apiPost(`/staff/reports/${dup}/actions`, { action: 'merge', primary }, { Authorization: `Bearer ${admin}` });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /sudah digabungkan/);
    await page.close();
  });

  it('axe found no serious or critical violation, and no page threw', () => {
    assert.deepEqual(env.axeFailures, []);
    assert.deepEqual(browser.problems, []);
  });
});
