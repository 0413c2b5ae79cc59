// Browser tests of what a person on a cheap phone meets (against the local stack): the defects a new
// user found, photos resized before upload, the installable/offline app (manifest, service
// worker, drafts sent once, nothing personal kept), the Content-Security-Policy, the maps.
// Run: node --test device.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  artifacts, imageSize, launch, localStack, pngPhoto, postJson, reportsTitled, staffToken, stopAll, until,
} from './lib.mjs';
import fs from 'node:fs';
import { evidence } from './flow.mjs';
import { locate } from '../../../web/js/geo.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const env = { axeFailures: [] };
let browser;

const token = staffToken;
const filed = async (title) => (await reportsTitled(env.api, title)).length;
const apiPost = (p, body, headers) => postJson(env.api, p, body, headers);

async function apiGet(p, headers = {}) {
  const r = await fetch(`${env.api}${p}`, { headers });
  return r.json();
}

async function signIn(page, role) {
  await page.goto(`${env.web}#/staf/masuk`);
  await page.getByLabel('Token staf (JWT)').fill(await token(role));
  await page.getByRole('button', { name: 'Masuk', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Kotak masuk' }).waitFor();
}

/** Fill the report form with what every test needs (anonymous: no identity required). */
async function fillReport(page, title) {
  await page.getByLabel('Kecamatan').locator('option', { hasText: 'Lembang' }).waitFor({ state: 'attached' });
  await page.getByLabel('Judul').fill(title);
  await page.getByLabel('Uraian').fill('Lampu jalan di gang menuju pasar mati sejak sebulan, gelap dan rawan.');
  await page.getByLabel('Kecamatan').selectOption('lembang');
  await page.getByRole('radio', { name: /^Anonim/ }).check();
}

describe('the web client on a phone (local stack)', { timeout: 600000 }, () => {
  before(async () => {
    Object.assign(env, await localStack());
    browser = await launch({ viewport: { width: 360, height: 740 } });
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('a point picks its kecamatan; Cimahi, Bandung and Jakarta are outside the regency', () => {
    const data = JSON.parse(fs.readFileSync(path.join(here, '../../../web/data/kecamatan.json'), 'utf8'));
    assert.equal(data.kecamatan.length, 16);
    for (const k of data.kecamatan) assert.deepEqual([locate(data, k).code, locate(data, k).inside], [k.code, true], k.name);
    const at = (lat, lon) => locate(data, { lat, lon });
    assert.deepEqual([at(-6.790123, 107.640456).code, at(-6.790123, 107.640456).inside], ['lembang', true], 'Cikole');
    assert.equal(at(-6.8722, 107.5425).inside, false, 'Kota Cimahi');
    assert.equal(at(-6.9025, 107.6188).inside, false, 'Gedung Sate, Kota Bandung');
    assert.equal(at(-6.2000, 106.8166).inside, false, 'Jakarta');
  });

  it('statistics read the API shape, in Indonesian, with as_of and a kecamatan map', async () => {
    env.art = artifacts('device-statistik');
    const base = { type: 'pengaduan', description: 'Jalan berlubang besar di depan sekolah, berbahaya bagi pengendara.', reporter: {} };
    for (const [kec, privacy, category] of [['lembang', 'anonim', 'jalan_rusak'], ['lembang', 'anonim', undefined], ['rongga', 'rahasia', 'bansos']]) {
      const reporter = privacy === 'rahasia' ? { name: 'Siti Aminah', phone: '081234567891' } : {};
      const r = await apiPost('/reports', { ...base, title: `Laporan uji ${kec}`, location: { kecamatan: kec }, privacy, reporter, ...(category ? { category } : {}) });
      assert.equal(r.status, 201);
    }
    // /stats is cached for a minute: wait until the API counts these three, then the page must
    // show exactly what the API says.
    const stats = await until(async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const body = await (await fetch(`${env.api}/stats`)).json();
      return body.reports && body.reports.not_broken_down > 0 && (body.reports.by_kecamatan.lembang || 0) >= 2 ? body : null;
    }, { timeout: 90000, what: '/stats counting the new reports' });
    const lembangRow = { count: stats.reports.by_kecamatan.lembang };
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/statistik`);
    for (const name of ['Laporan menurut status', 'Laporan menurut kategori', 'Laporan menurut kecamatan', 'Tanggapan perangkat daerah (OPD)']) {
      await page.getByRole('heading', { level: 2, name }).waitFor();
    }
    assert.match(await page.locator('#stat-as-of').textContent(), /^Data per \d+ \S+ \d{4}/);
    const text = await page.locator('main').innerText();
    for (const english of ['Reports', 'Not broken down', 'Opd response', 'by_status', 'tanpa_kategori']) {
      assert.ok(!text.includes(english), `no "${english}" on the statistics page`);
    }
    const kec = page.locator('[data-section="kecamatan"] table tbody tr');
    const lembangShown = page.locator('[data-section="kecamatan"] tbody tr', { hasText: 'Lembang' });
    assert.deepEqual((await lembangShown.innerText()).split('\t').map((s) => s.trim()), ['Lembang', String(lembangRow.count)]);
    assert.ok(await kec.count() >= 1);
    // The suites share one stack: Rongga is left to this test's rahasia report alone.
    assert.equal(stats.reports.by_kecamatan.rongga, undefined, 'the API does not count rahasia by kecamatan');
    assert.equal(await page.locator('[data-section="kecamatan"] tbody tr', { hasText: 'Rongga' }).count(), 0, 'rahasia not by kecamatan');
    await page.locator('svg.kec-map circle.kec-dot:not(.kec-dot-empty)').first().waitFor();
    assert.equal(await page.locator('svg.kec-map circle').count(), 16, 'every kecamatan drawn');
    await page.getByText('Laporan rahasia (hanya dihitung)').waitFor();
    await page.locator('[data-section="kategori"] tbody tr', { hasText: 'Belum berkategori' }).waitFor();
    await evidence(env, page, 'statistik-360');
    await page.close();
  });

  it('the form: short at 360 px, errors clear when fixed, categories once and sorted, map picks the kecamatan', async () => {
    env.art = artifacts('device-lapor');
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/lapor`);
    await page.getByLabel('Kecamatan').locator('option', { hasText: 'Lembang' }).waitFor({ state: 'attached' });
    await page.getByLabel('Kategori').locator('option', { hasText: 'Jalan rusak' }).waitFor({ state: 'attached' });
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    console.log(`form height at 360 px: ${height} px (was 4866)`);
    assert.ok(height <= 3300, `form at 360 px is ${height} px tall`);
    assert.equal(await page.getByLabel('Lintang (latitude)').isVisible(), false, 'latitude behind the map');

    const cats = await page.getByLabel('Kategori').locator('option').allTextContents();
    assert.equal(cats[0], 'Belum tahu');
    assert.equal(cats.filter((c) => /lainnya/i.test(c)).length, 1, `one "Lainnya": ${cats}`);
    assert.equal(cats.at(-1), 'Lainnya');
    const named = cats.slice(1, -1);
    assert.deepEqual(named, [...named].sort((a, b) => a.localeCompare(b, 'id')), 'sorted by shown name');

    await page.getByRole('button', { name: 'Kirim laporan' }).click();
    const titleError = page.locator('[data-field="title"] .field-error');
    await until(async () => /minimal 5/.test(await titleError.textContent()), { what: 'title error' });
    await page.getByLabel('Judul').fill('Lampu penerangan jalan mati di gang Melati 2');
    assert.equal((await titleError.textContent()).trim(), '', 'the title error goes once the title is fixed');
    assert.equal(await page.getByLabel('Judul').getAttribute('aria-invalid'), null);
    assert.match(await page.locator('[data-field="description"] .field-error').textContent(), /minimal 20/, 'other errors stay');
    assert.equal(await page.locator('.error-summary li', { hasText: 'Judul' }).count(), 0, 'and leaves the summary');

    // A point on the map picks the kecamatan; outside the regency warns.
    await page.getByRole('button', { name: 'Pilih di peta' }).click();
    await page.locator('.map.leaflet-container').waitFor();
    await page.getByText('Koordinat (lintang dan bujur)').click();
    await page.getByLabel('Lintang (latitude)').fill('-6.9712');
    await page.getByLabel('Bujur (longitude)').fill('107.4465');
    await page.getByLabel('Bujur (longitude)').press('Tab');
    await page.getByText('Kecamatan dipilih otomatis: Cililin').waitFor();
    assert.equal(await page.getByLabel('Kecamatan').inputValue(), 'cililin');
    await page.locator('.map .leaflet-marker-icon').waitFor();
    await page.getByLabel('Lintang (latitude)').fill('-6.2000');
    await page.getByLabel('Bujur (longitude)').fill('106.8166');
    await page.getByLabel('Bujur (longitude)').press('Tab');
    await page.getByText('berada di luar Kabupaten Bandung Barat').waitFor();
    assert.equal(await page.getByLabel('Kecamatan').inputValue(), 'cililin', 'a point outside changes no kecamatan');
    // Dragging the marker moves the point.
    await page.getByLabel('Lintang (latitude)').fill('-6.8115');
    await page.getByLabel('Bujur (longitude)').fill('107.6175');
    await page.getByLabel('Bujur (longitude)').press('Tab');
    await page.getByText('Kecamatan dipilih otomatis: Lembang').waitFor();
    const marker = page.locator('.map .leaflet-marker-icon');
    await marker.scrollIntoViewIfNeeded();
    const box = await marker.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height + 30, { steps: 8 });
    await page.mouse.up();
    await until(async () => (await page.getByLabel('Lintang (latitude)').inputValue()) !== '-6.811500', { what: 'dragged point' });
    await evidence(env, page, 'lapor-peta');
    await page.close();
  });

  it('photos are resized to 1600 px JPEG with progress; a failed upload is retried alone; tracking lists them', async () => {
    env.art = artifacts('device-foto');
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/lapor`);
    await page.evaluate(() => {
      window.sawProgress = false;
      new MutationObserver(() => { if (document.querySelector('.file-list progress')) window.sawProgress = true; })
        .observe(document.body, { childList: true, subtree: true });
    });
    const title = `Foto besar ${Date.now() % 100000}`;
    await fillReport(page, title);
    let failures = 1;
    // The upload goes to S3 (the stack's moto), not to the API or the site: its first POST is cut.
    await page.route((u) => !u.href.startsWith(env.api) && !u.href.startsWith(env.web), (route) => (
      route.request().method() === 'POST' && failures-- > 0 ? route.abort('connectionreset') : route.fallback()));
    const big = pngPhoto(2400, 1800);
    await page.getByLabel('Lampiran foto atau PDF').setInputFiles({ name: 'kamera.png', mimeType: 'image/png', buffer: big });
    await page.getByRole('button', { name: 'Coba unggah lagi kamera.jpg' }).waitFor({ timeout: 30000 });
    await evidence(env, page, 'unggah-gagal');
    await page.getByRole('button', { name: 'Coba unggah lagi kamera.jpg' }).click();
    await page.locator('.file-list .file-state.ok').waitFor({ timeout: 30000 });
    assert.ok(await page.evaluate(() => window.sawProgress), 'upload progress shown');
    assert.equal(await page.getByLabel('Judul').inputValue(), title, 'nothing else started over');
    await page.getByRole('button', { name: 'Kirim laporan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Laporan terkirim' }).waitFor();
    const creds = {
      tracking_id: (await page.locator('#res-tracking').textContent()).trim(),
      access_token: (await page.locator('#res-token').textContent()).trim(),
    };
    const view = await apiGet(`/reports/${creds.tracking_id}`, { 'X-Access-Token': creds.access_token });
    assert.equal(view.attachments.length, 1);
    // What was stored, once the scan has cleaned it: downloaded as the reporter downloads it.
    const link = await until(async () => {
      const r = await fetch(`${env.api}/reports/${creds.tracking_id}/attachments/${view.attachments[0]}`, { headers: { 'X-Access-Token': creds.access_token } });
      return r.status === 200 ? r.json() : null;
    }, { timeout: 60000, what: 'the scanned photo' });
    const stored = Buffer.from(await (await fetch(link.url)).arrayBuffer());
    const meta = imageSize(stored);
    console.log(`photo upload: ${big.length} B PNG 2400x1800 -> ${stored.length} B ${meta.type} ${meta.width}x${meta.height}`);
    assert.equal(meta.type, 'image/jpeg');
    assert.deepEqual([meta.width, meta.height], [1600, 1200]);

    // The tracking page lists the reporter's photo and opens it.
    await page.getByRole('link', { name: 'Lacak laporan ini' }).click();
    await page.getByRole('heading', { level: 2, name: 'Lampiran' }).waitFor();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Buka lampiran 1' }).click()]);
    assert.ok(popup.url().includes(view.attachments[0]) && /Signature|X-Amz-Signature/.test(popup.url()), popup.url());
    await popup.close();
    await evidence(env, page, 'lacak-lampiran');
    await page.close();
  });

  it('staff pages: no developer details, the point on a map, 360 px and keyboard', async () => {
    env.art = artifacts('device-staf');
    const r = await apiPost('/reports', {
      type: 'pengaduan', title: 'Saluran air tersumbat di Ngamprah', description: 'Saluran air di depan pasar tersumbat sampah dan meluap.',
      location: { kecamatan: 'ngamprah', lat: -6.842, lon: 107.508 }, privacy: 'anonim', reporter: {},
    });
    const page = await browser.context.newPage();
    await signIn(page, 'admin');
    // The staff view as the API gives it after an SP4N-LAPOR! sync: bookkeeping in the event data.
    await page.route(`**/staff/reports/${r.body.tracking_id}`, async (route) => {
      const res = await route.fetch();
      const json = await res.json();
      json.version = 3;
      const trail = json.audit_trail || [];
      trail.push({ at: new Date().toISOString(), actor: 'sistem', action: 'sp4n_synced', public: false,
        data: { origin: 'sync', for_seq: 1, call: 'create', complaint_id: 'LAPOR-123' } });
      json.audit_trail = trail;
      await route.fulfill({ response: res, json });
    });
    await page.goto(`${env.web}#/staf/laporan/${r.body.tracking_id}`);
    await page.getByRole('heading', { level: 1, name: 'Saluran air tersumbat di Ngamprah' }).waitFor();
    await page.locator('.leaflet-container .leaflet-marker-icon').waitFor();
    const text = await page.locator('main').innerText();
    for (const dev of ['Versi 3', 'origin', 'for_seq', 'call: create']) assert.ok(!text.includes(dev), `no "${dev}"`);
    assert.ok(text.includes('ID SP4N-LAPOR!: LAPOR-123'));
    const { horizontalOverflow, keyboardReach } = await import('./lib.mjs');
    assert.equal(await horizontalOverflow(page), null);
    await evidence(env, page, 'staf-laporan-360');
    const problems = await keyboardReach(page);
    await page.unroute(`**/staff/reports/${r.body.tracking_id}`);
    for (const route of ['#/staf?tab=verifikasi', '#/staf/kinerja']) {
      await page.goto(`${env.web}${route}`);
      await page.locator('h1').waitFor();
      await page.waitForLoadState('networkidle');
      const over = await horizontalOverflow(page);
      if (over) problems.push(`${route}: ${over}`);
      problems.push(...(await keyboardReach(page)).map((p) => `${route}: ${p}`));
      await evidence(env, page, `staf-${route.replace(/[^a-z]/g, '-')}`);
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('files both ways: staff see photo thumbnails and a PDF link; the OPD answer file reaches the tracking page', async () => {
    env.art = artifacts('device-berkas');
    const upload = async (bytes, type, name) => {
      const created = (await apiPost('/attachments', { content_type: type, size: bytes.length })).body;
      const form = new FormData();
      for (const [k, v] of Object.entries(created.upload.fields)) form.append(k, v);
      form.append('file', new Blob([bytes], { type }), name);
      const r = await fetch(created.upload.url, { method: 'POST', body: form });
      assert.ok(r.ok, `upload ${r.status}`);
      return created.attachment_id;
    };
    const photo = await upload(pngPhoto(320, 240), 'image/png', 'jalan.png');
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const answer = await upload(pdf, 'application/pdf', 'berita-acara.pdf');
    // A file is usable once the stack's scanner has checked it (seconds after the upload).
    const r = await until(async () => {
      const res = await apiPost('/reports', {
        type: 'pengaduan', title: 'Jalan berlubang dekat sekolah', description: 'Lubang besar di jalan depan SD, berbahaya bagi anak-anak.',
        location: { kecamatan: 'lembang' }, privacy: 'anonim', reporter: {}, attachments: [photo],
      });
      return res.status === 201 ? res : null;
    }, { timeout: 60000, what: 'the photo checked and the report filed' });
    const tid = r.body.tracking_id;
    const act = async (role, opd, body) => {
      const headers = { Authorization: `Bearer ${await token(role, opd)}` };
      const res = await until(async () => {
        const answer = await apiPost(`/staff/reports/${tid}/actions`, body, headers);
        const pending = answer.status === 400 && JSON.stringify(answer.body).includes('attachment_pending');
        return pending ? null : answer;
      }, { timeout: 60000, what: `${body.action} with its files checked` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    await act('admin', null, { action: 'verify', opd_code: 'DPUPR' });
    await act('opd', 'DPUPR', { action: 'respond', message: 'Lubang sudah ditambal; berita acara terlampir.', attachments: [answer] });

    const page = await browser.context.newPage();
    await signIn(page, 'admin');
    await page.goto(`${env.web}#/staf/laporan/${tid}`);
    await page.getByRole('heading', { level: 1, name: 'Jalan berlubang dekat sekolah' }).waitFor();
    const thumb = page.locator('img.thumb-img');
    await thumb.waitFor();
    await until(async () => thumb.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'thumbnail loaded' });
    assert.equal(await thumb.evaluate((img) => img.naturalWidth), 320);
    const box = await thumb.boundingBox();
    assert.ok(box.width <= 100, `a thumbnail, not the full photo (${box.width} px)`);
    await page.getByRole('link', { name: 'Unduh PDF 2' }).waitFor();
    const { horizontalOverflow } = await import('./lib.mjs');
    assert.equal(await horizontalOverflow(page), null);
    await evidence(env, page, 'staf-lampiran-360');

    await page.goto(`${env.web}#/lacak`);
    await page.getByLabel('Nomor laporan').fill(tid);
    await page.getByLabel('Kode akses').fill(r.body.access_token);
    await page.getByRole('button', { name: 'Lihat laporan' }).click();
    await page.getByRole('heading', { level: 2, name: 'Lampiran' }).waitFor();
    await page.getByText('1 lampiran (lihat bagian Lampiran)').waitFor();
    // A PDF opens as a download, so its tab never commits a URL: watch the request it makes.
    const [request] = await Promise.all([
      page.context().waitForEvent('request', { predicate: (q) => q.url().includes(answer) && !q.url().startsWith(env.api), timeout: 15000 }),
      page.getByRole('button', { name: 'Buka lampiran 2' }).click(),
    ]);
    assert.match(request.url(), /Signature/, 'a signed, time-limited link');
    const fetched = await fetch(request.url());
    assert.equal(fetched.status, 200);
    assert.ok(Buffer.from(await fetched.arrayBuffer()).toString('latin1').startsWith('%PDF-1.4'), 'the OPD\'s PDF itself');
    for (const other of page.context().pages()) if (other !== page) await other.close();
    assert.equal(await horizontalOverflow(page), null);
    await evidence(env, page, 'lacak-berkas-opd-360');
    await page.close();
  });

  it('home has the regency, a helpline and questions; staff sign-in names no python command', async () => {
    env.art = artifacts('device-beranda');
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/`);
    await page.getByText('Pemerintah Kabupaten Bandung Barat').waitFor();
    await page.getByRole('heading', { level: 2, name: 'Layanan pengaduan' }).waitFor();
    assert.match(await page.locator('a[href^="tel:"]').getAttribute('href'), /^tel:\+62\d+$/);
    await page.locator('a[href^="mailto:"]').waitFor();
    assert.ok(await page.locator('details.faq').count() >= 5);
    await evidence(env, page, 'beranda-360');
    await page.goto(`${env.web}#/staf/masuk`);
    await page.getByRole('heading', { level: 1, name: 'Masuk staf' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.ok(!text.includes('python -m'), 'no bare python command');
    assert.ok(text.includes('make token ROLE=admin'));
    await page.close();
  });

  it('installable: manifest, icons, an active service worker', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/`);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await until(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller)), { what: 'page controlled by the service worker' });
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector('link[rel="manifest"]');
      const res = await fetch(link.href);
      return { type: res.headers.get('content-type'), body: await res.json(), href: link.href };
    });
    assert.equal(manifest.type, 'application/manifest+json');
    const m = manifest.body;
    assert.equal(m.lang, 'id');
    assert.ok(m.name.includes('Lapor KBB') && m.short_name === 'Lapor KBB');
    assert.equal(m.display, 'standalone');
    assert.ok(m.start_url && m.scope && m.theme_color && m.background_color);
    for (const [size, purpose] of [['192x192', 'any'], ['512x512', 'any'], ['512x512', 'maskable']]) {
      const icon = m.icons.find((i) => i.sizes === size && i.purpose === purpose);
      assert.ok(icon, `icon ${size} ${purpose}`);
      const real = await page.evaluate(async (src) => {
        const bmp = await createImageBitmap(await (await fetch(src)).blob());
        return `${bmp.width}x${bmp.height}`;
      }, new URL(icon.src, manifest.href).href);
      assert.equal(real, size);
    }
    const state = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).active.state);
    assert.equal(state, 'activated');
    await page.close();
  });

  it('the desa picker follows the kecamatan, works without a signal, and sends the Kemendagri code', async () => {
    env.art = artifacts('device-desa');
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/lapor`);
    const desa = page.getByLabel('Desa/kelurahan');
    await page.getByLabel('Kecamatan').locator('option', { hasText: 'Lembang' }).waitFor({ state: 'attached' });
    assert.ok(await desa.isDisabled(), 'no desa before a kecamatan');
    assert.equal((await desa.locator('option').allTextContents())[0], 'Pilih kecamatan dahulu');

    await page.getByLabel('Kecamatan').selectOption('lembang');
    const lembang = await desa.locator('option').allTextContents();
    assert.equal(lembang[0], 'Tidak tahu / tidak dipilih', 'optional');
    assert.equal(lembang.length, 1 + 16, `Lembang has 16 desa: ${lembang}`);
    assert.ok(lembang.includes('Jayagiri') && !lembang.includes('Citatah'));
    await desa.selectOption({ label: 'Jayagiri' });
    assert.equal(await desa.inputValue(), '32.17.01.2008');

    // Without a signal the list still follows the kecamatan: it comes from the loaded reference.
    await browser.context.setOffline(true);
    await page.getByLabel('Kecamatan').selectOption('cipatat');
    assert.equal(await desa.inputValue(), '', 'a desa of another kecamatan is not kept');
    const cipatat = await desa.locator('option').allTextContents();
    assert.ok(cipatat.includes('Citatah') && !cipatat.includes('Jayagiri'), `${cipatat}`);
    await browser.context.setOffline(false);
    await desa.selectOption({ label: 'Citatah' });
    const box = await desa.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 360, 'the picker fits 360 px');
    await env.art.shot(page, 'desa-picker');

    const title = `Desa terpilih ${Date.now() % 100000}`;
    await page.getByLabel('Judul').fill(title);
    await page.getByLabel('Uraian').fill('Jalan desa di dekat balai desa berlubang besar dan tergenang air.');
    await page.getByRole('radio', { name: /^Anonim/ }).check();
    await page.getByRole('button', { name: 'Kirim laporan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Laporan terkirim' }).waitFor();
    assert.deepEqual((await reportsTitled(env.api, title)).map((r) => r.desa), ['32.17.07.2003']);
    await page.close();
  });

  it('offline: the app reloads, a draft waits for a signal without the NIK, and is filed exactly once', async () => {
    env.art = artifacts('device-offline');
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/lapor`);
    await until(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller)), { what: 'controlled page' });
    const title = `Tanpa sinyal ${Date.now() % 100000}`;
    await fillReport(page, title);
    await page.locator('input[name="reporter.nik"]').fill('3217014507900003');
    await page.getByLabel('Lampiran foto atau PDF').setInputFiles({ name: 'foto.png', mimeType: 'image/png', buffer: pngPhoto(320, 240) });
    await page.locator('.file-list .file-state.ok').waitFor({ timeout: 30000 });
    await browser.context.setOffline(true);
    await page.getByRole('button', { name: 'Kirim laporan' }).click();
    await page.getByRole('heading', { level: 2, name: 'Menunggu sinyal' }).waitFor();
    await page.locator('#drafts li', { hasText: title }).waitFor();
    const drafts = await page.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('lapor-kbb');
      req.onsuccess = () => {
        const get = req.result.transaction('drafts').objectStore('drafts').getAll();
        get.onsuccess = () => resolve(get.result.map((d) => ({ key: d.key, body: d.body, files: d.files.length, ids: d.files.map((f) => f.id) })));
      };
      req.onerror = () => reject(req.error);
    }));
    assert.equal(drafts.length, 1);
    assert.ok(/^[\x21-\x7e]{8,128}$/.test(drafts[0].key), 'the Idempotency-Key is made with the draft');
    assert.equal(drafts[0].body.reporter.nik, undefined, 'no NIK in a draft');
    assert.ok(!JSON.stringify(drafts[0]).includes('3217014507900003'));
    assert.equal(drafts[0].files, 1);
    await evidence(env, page, 'draf-menunggu-sinyal');

    // Reloading without a signal shows the app (service worker cache) and the draft.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Buat laporan' }).waitFor();
    await page.locator('#drafts li', { hasText: title }).waitFor();
    await env.art.shot(page, 'offline-reload');

    // The signal returns but the answer that filed it is lost: the draft stays; the retry files it
    // once. Answers before that (the photo still being checked) reach the app, which waits and resends.
    let lost = 1;
    await page.route('**/reports', async (route) => {
      if (route.request().method() !== 'POST' || lost <= 0) return route.continue();
      const response = await route.fetch();
      if (response.status() !== 201) return route.fulfill({ response });
      lost -= 1;
      return route.abort('connectionreset');
    });
    await browser.context.setOffline(false);
    await until(async () => (await filed(title)) === 1, { what: 'first POST stored' });
    await page.locator('#drafts li', { hasText: title }).waitFor();
    await page.getByRole('button', { name: 'Kirim sekarang' }).click();
    await page.getByRole('heading', { level: 1, name: 'Laporan terkirim' }).waitFor();
    assert.equal((await filed(title)), 1, 'filed exactly once');
    await evidence(env, page, 'draf-terkirim');
    const creds = {
      tracking_id: (await page.locator('#res-tracking').textContent()).trim(),
      access_token: (await page.locator('#res-token').textContent()).trim(),
    };

    // The tracking page kept offline: number, status and time only.
    await page.getByRole('link', { name: 'Lacak laporan ini' }).click();
    await page.locator('#lacak-result .badge', { hasText: 'Diajukan' }).waitFor();
    const kept = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    assert.ok(kept.includes(creds.tracking_id) && kept.includes('diajukan'));
    assert.ok(!kept.includes(creds.access_token) && !kept.includes(title), 'no access code or text kept');
    await browser.context.setOffline(true);
    await page.reload();
    await page.getByRole('heading', { level: 2, name: 'Terakhir dilihat di perangkat ini' }).waitFor();
    await page.locator('.last-seen li', { hasText: creds.tracking_id }).waitFor();
    await evidence(env, page, 'lacak-offline');
    await browser.context.setOffline(false);

    // "Hapus data di perangkat ini" clears it all.
    page.once('dialog', (d) => d.accept());
    await page.goto(`${env.web}#/`);
    await page.getByRole('button', { name: 'Hapus data di perangkat ini' }).click();
    await page.getByText('Data di perangkat ini sudah dihapus.').first().waitFor();
    const left = await page.evaluate(async () => ({
      local: localStorage.length,
      caches: (await caches.keys()).length,
      dbs: (await indexedDB.databases()).map((d) => d.name),
    }));
    assert.deepEqual(left, { local: 0, caches: 0, dbs: [] });
    await page.close();
  });

  it('a draft older than the key\'s life waits for the reporter and then goes with a new key', async () => {
    env.art = artifacts('device-draf-lama');
    const page = await browser.context.newPage();
    await page.goto(`${env.web}#/lapor`);
    const title = `Draf kemarin ${Date.now() % 100000}`;
    await fillReport(page, title);
    await browser.context.setOffline(true);
    await page.getByRole('button', { name: 'Kirim laporan' }).click();
    await page.locator('#drafts li', { hasText: title }).waitFor();
    const readDrafts = () => page.evaluate(() => new Promise((resolve) => {
      const req = indexedDB.open('lapor-kbb');
      req.onsuccess = () => {
        const get = req.result.transaction('drafts').objectStore('drafts').getAll();
        get.onsuccess = () => { req.result.close(); resolve(get.result); };
      };
    }));
    const [old] = await readDrafts();
    // Made 25 hours ago: the API has forgotten the key, so a lost answer could not be recognised.
    await page.evaluate((id) => new Promise((resolve) => {
      const req = indexedDB.open('lapor-kbb');
      req.onsuccess = () => {
        const store = req.result.transaction('drafts', 'readwrite').objectStore('drafts');
        store.get(id).onsuccess = (e) => {
          const d = e.target.result;
          d.key_made_at -= 25 * 3600 * 1000;
          d.created_at -= 25 * 3600 * 1000;
          store.put(d).onsuccess = () => { req.result.close(); resolve(); };
        };
      };
    }), old.id);
    await browser.context.setOffline(false);
    await page.reload();
    await page.locator('#drafts li', { hasText: 'lebih dari sehari' }).waitFor();
    await new Promise((r) => setTimeout(r, 1500)); // the outbox ran at start-up and left it alone
    assert.equal((await filed(title)), 0, 'not sent unasked');
    await evidence(env, page, 'draf-lama');
    const keys = [];
    page.on('request', (req) => { if (req.method() === 'POST' && req.url().endsWith('/reports')) keys.push(req.headers()['idempotency-key']); });
    await page.getByRole('button', { name: 'Ya, kirim' }).click();
    await page.getByRole('heading', { level: 1, name: 'Laporan terkirim' }).waitFor();
    assert.equal(keys.length, 1);
    assert.ok(keys[0] && keys[0] !== old.key, 'a new Idempotency-Key');
    assert.equal((await filed(title)), 1);
    assert.deepEqual(await readDrafts(), []);
    await page.close();
  });

  it('the Content-Security-Policy is served and a violation is caught', async () => {
    const res = await fetch(env.web);
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, new RegExp(`connect-src 'self' ${env.api.replace(/[.]/g, '\\.')}`));
    assert.match(csp, /img-src 'self' blob: https:\/\/tile\.openstreetmap\.org/);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp));
    // The detector works: an inline style is refused and reported (in a browser of its own).
    const probe = await launch({ apiBase: env.api });
    try {
      const page = await probe.context.newPage();
      await page.goto(`${env.web}#/`);
      await page.locator('h1').waitFor();
      await page.evaluate(() => { const d = document.createElement('p'); d.setAttribute('style', 'color: red'); document.body.append(d); });
      await until(() => probe.problems.some((p) => /CSP violation: style-src-attr/.test(p)), { what: 'CSP report' });
    } finally {
      await probe.close();
    }
  });

  it('axe found no serious or critical violation, no page threw and no CSP violation', () => {
    assert.deepEqual(env.axeFailures, []);
    assert.deepEqual(browser.problems, []);
  });
});
