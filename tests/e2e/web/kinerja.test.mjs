// The Kinerja page and the closing of a Tukin month, in Chromium against the real local stack:
// provisional vs final, every figure linked to its drill-down, an OPD's own row, its objection,
// the admin's decision and the finalisation. 360 px, axe on every step.
//   tests/e2e/web/run.sh kinerja    (starts its own stack on free ports)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  artifacts, horizontalOverflow, launch, localStack, postJson, PY, ROOT, staffToken, stopAll, until,
} from './lib.mjs';
import { evidence, signIn } from './flow.mjs';

const env = { axeFailures: [] };
let browser;

// The clock of a live stack cannot be moved three working days on, so the test stores the fold of
// a disposition whose first-response deadline has passed (what the consumer writes once it has),
// for a real report forwarded to DPUPR. Everything after that is the page and the API.
const LATE_FACT = `
import sys
from chalicelib import cli
cli.load_env()
from datetime import timedelta
from chalicelib.data import performance as store
from chalicelib.domain import clock
from chalicelib.domain.performance import Fact
tid, now = sys.argv[1], clock.now()
at, due = clock.iso_utc(now - timedelta(minutes=2)), clock.iso_utc(now - timedelta(minutes=1))
store.save([Fact(tracking_id=tid, opd_code="DPUPR", seq=2, month=clock.month_wib(now), disposed_at=at,
                 response_due_at=due, stage_due_at=due, basis_seq=999)])
`;

function storeLateFact(tid) {
  return new Promise((resolve, reject) => {
    execFile(PY, ['-c', LATE_FACT, tid], { cwd: ROOT, timeout: 60000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

async function cellLinks(page, opd, figure) {
  return page.locator(`table tbody tr[data-opd="${opd}"] a[data-figure="${figure}"]`);
}

describe('Kinerja: a month that can be closed', { timeout: 600000 }, () => {
  before(async () => {
    Object.assign(env, await localStack());
    browser = await launch({ viewport: { width: 360, height: 780 } });
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('an OPD objects to a late figure of its own report, the admin accepts it, a past month is finalised', async () => {
    env.art = artifacts('kinerja-tutup');
    const created = await postJson(env.api, '/reports', {
      type: 'pengaduan', title: `Saluran tersumbat ${Date.now() % 1000000}`, privacy: 'anonim',
      description: 'Saluran air di depan sekolah tersumbat sampah sejak minggu lalu dan meluap saat hujan.',
      location: { kecamatan: 'lembang' }, reporter: {},
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const tid = created.body.tracking_id;
    const admin = await staffToken('admin');
    const verified = await postJson(env.api, `/staff/reports/${tid}/actions`, { action: 'verify', opd_code: 'DPUPR' },
      { Authorization: `Bearer ${admin}` });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    await storeLateFact(tid);

    // The OPD: its own row only, provisional, the late figure linked to its reports.
    const officer = await browser.context.newPage();
    await signIn(env, officer, await staffToken('opd', 'DPUPR'));
    await officer.getByRole('link', { name: 'Kinerja OPD' }).first().click();
    await officer.locator('#status-bulan[data-status="provisional"]').waitFor();
    await officer.getByText('Status: Sementara').waitFor();
    assert.deepEqual(await officer.locator('table tbody tr[data-opd]').evaluateAll((rows) => rows.map((r) => r.dataset.opd)),
      ['DPUPR'], 'an OPD sees its own row');
    const late = await cellLinks(officer, 'DPUPR', 'late');
    assert.ok(Number(await late.innerText()) >= 1);
    for (const figure of ['received', 'responded', 'responded_on_time', 'pending', 'breaches', 'overdue_open', 'returned']) {
      assert.equal(await (await cellLinks(officer, 'DPUPR', figure)).count(), 1, `${figure} links to its drill-down`);
    }
    assert.equal(await horizontalOverflow(officer), null, 'no horizontal scroll at 360 px');
    await evidence(env, officer, 'opd-baris-sendiri');
    await late.click();
    const drill = officer.locator('#rincian');
    await drill.getByRole('link', { name: tid }).waitFor();
    await drill.getByRole('row', { name: new RegExp(tid) }).getByRole('button', { name: 'Ajukan keberatan' }).click();
    const form = officer.locator('#form-keberatan');
    assert.equal(await form.getByLabel('Nomor laporan').inputValue(), tid);
    // A figure the report is not in: refused with the API's Indonesian message, nothing stored.
    await form.getByLabel('Angka yang dikeberatkan').selectOption('breaches');
    await form.getByLabel('Alasan').fill('Lokasi tidak dapat dijangkau karena banjir.');
    await form.getByRole('button', { name: 'Kirim keberatan' }).click();
    await form.locator('.field-error', { hasText: 'tidak terhitung pada angka tersebut' }).waitFor();
    await evidence(env, officer, 'opd-keberatan-ditolak-api');
    await form.getByLabel('Angka yang dikeberatkan').selectOption('late');
    await form.getByRole('button', { name: 'Kirim keberatan' }).click();
    await officer.locator('#keberatan tr', { hasText: tid }).getByText('Belum diputuskan').waitFor();
    await evidence(env, officer, 'opd-keberatan-terkirim');
    assert.equal(await officer.getByRole('button', { name: 'Terima' }).count(), 0, 'an OPD does not decide');
    assert.equal(await officer.locator('#finalkan').count(), 0, 'an OPD does not finalise');

    // The admin: every row, the objection with its decision buttons; accepting takes the report
    // out of DPUPR's late figure.
    const desk = await browser.context.newPage();
    await signIn(env, desk, admin);
    await desk.goto(`${env.web}#/staf/kinerja?opd=DPUPR&figure=late`);
    await desk.locator('#rincian').getByRole('link', { name: tid }).waitFor();
    const before = Number(await (await cellLinks(desk, 'DPUPR', 'late')).innerText());
    const row = desk.locator('#keberatan tr', { hasText: tid });
    await row.getByLabel(`Catatan keputusan ${tid}`).fill('Bukti banjir diterima.');
    await evidence(env, desk, 'admin-keberatan');
    await row.getByRole('button', { name: 'Terima' }).click();
    await desk.locator('#keberatan tr', { hasText: tid }).getByText('Diterima', { exact: true }).waitFor();
    await until(async () => Number(await (await cellLinks(desk, 'DPUPR', 'late')).innerText()) === before - 1,
      { what: 'the late figure without the accepted report' });
    assert.equal(await desk.locator('#rincian').getByRole('link', { name: tid }).count(), 0);
    await desk.locator('#verifikasi').getByText('Verifikasi Diskominfotik').waitFor();
    assert.equal(await desk.locator('table tbody tr[data-opd="DISKOMINFOTIK"]').count(), 0, 'the desk is not an OPD row');

    // This month cannot be finalised while the OPDs may still object.
    await desk.locator('#finalkan').click();
    await desk.locator('#kinerja-status').getByText('masa keberatan OPD berakhir').waitFor();
    await evidence(env, desk, 'admin-belum-dapat-final');
    // A month long past: finalised (or already final when the stack is reused).
    await desk.goto(`${env.web}#/staf/kinerja?period=2025-02`);
    await desk.locator('#status-bulan').waitFor();
    if (await desk.locator('#finalkan').count()) await desk.locator('#finalkan').click();
    await desk.locator('#status-bulan[data-status="final"]').getByText('Status: Final').waitFor();
    assert.equal(await desk.locator('#finalkan').count(), 0);
    assert.equal(await horizontalOverflow(desk), null, 'no horizontal scroll at 360 px');
    await evidence(env, desk, 'admin-bulan-final');
    await Promise.all([officer.close(), desk.close()]);
    assert.deepEqual(env.axeFailures, []);
  });
});
