// Against the real local stack (`make run`): the same scenario as the mock
// test, with tokens from `python -m chalicelib.cli token`.
//
//   node --test stack.test.mjs                 uses a running stack (API_BASE, WEB_BASE)
//   START_STACK=1 node --test stack.test.mjs   starts `python -m chalicelib.local.stack run` itself
//   REQUIRE_STACK=1 ...                        fails (instead of skipping) when no stack answers
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { artifacts, isUp, launch, ROOT, serveWeb, start, stopAll, waitForHttp } from './lib.mjs';
import {
  adminVerifies, confirmResolved, fileReport, mobileChecks, opdAnswers, scoreboard, signIn, track, evidence,
} from './flow.mjs';

const run = promisify(execFile);
const VENV_PY = path.join(ROOT, '.venv', 'bin', 'python');
const PY = process.env.PYTHON || (fs.existsSync(VENV_PY) ? VENV_PY : 'python3');
const API = (process.env.API_BASE || `http://127.0.0.1:${process.env.LAPOR_API_PORT || 8000}`).replace(/\/+$/, '');
const WEB = process.env.WEB_BASE || `http://127.0.0.1:${process.env.LAPOR_WEB_PORT || 8080}/`;
const OPD = process.env.E2E_OPD || 'DPUPR';

const env = { api: API, web: WEB.endsWith('/') ? WEB : `${WEB}/`, axeFailures: [] };
let browser;
let skipReason = null;

async function token(role, opd) {
  const args = ['-m', 'chalicelib.cli', 'token', '--role', role, ...(opd ? ['--opd', opd] : [])];
  const { stdout } = await run(PY, args, { cwd: ROOT, env: { ...process.env, LAPOR_API_URL: API }, timeout: 60000 });
  const line = stdout.trim().split('\n').map((l) => l.trim()).filter((l) => l.split('.').length === 3).pop();
  assert.ok(line, `the CLI printed a JWT: ${stdout}`);
  return line;
}

describe('web client against the local stack', { timeout: 600000 }, () => {
  before(async () => {
    if (!(await isUp(`${API}/health`))) {
      if (process.env.START_STACK === '1') {
        start(PY, ['-m', 'chalicelib.local.stack', 'run'], { name: 'local-stack' });
        await waitForHttp(`${API}/health`, 180000);
      } else if (process.env.REQUIRE_STACK === '1') {
        throw new Error(`no local stack answers at ${API}/health (run \`make run\` or set START_STACK=1)`);
      } else {
        skipReason = `no local stack at ${API} (run \`make run\`, or START_STACK=1)`;
        return;
      }
    }
    if (!(await isUp(`${env.web}index.html`))) {
      // An older stack without its web server: serve web/ on the port its CORS list allows.
      const port = Number(new URL(env.web).port || 80);
      env.web = await serveWeb(port);
    }
    // No config override: the page reads web/config.js (and the stack's config.local.js),
    // exactly as a person's browser does, unless API_BASE says otherwise.
    browser = await launch({ apiBase: process.env.API_BASE ? API : undefined });
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('citizen files with a photo, admin verifies, OPD accepts and answers, citizen confirms, scoreboard counts it', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    env.art = artifacts('stack-flow');
    const citizen = await browser.context.newPage();
    const title = `Jalan berlubang di Cikole ${Date.now() % 1000000}`;
    const creds = await fileReport(env, citizen, { title });

    const admin = await browser.context.newPage();
    await signIn(env, admin, await token('admin'), 'admin-kotak-masuk');
    const opd = await adminVerifies(env, admin, title, OPD);

    await track(env, citizen, creds, { expectStatus: 'Diteruskan ke OPD', name: 'lacak-diteruskan' });

    const officer = await browser.context.newPage();
    await signIn(env, officer, await token('opd', opd), 'opd-kotak-masuk');
    const answer = `Lubang sudah ditambal oleh tim ${opd} hari ini. Terima kasih atas laporannya.`;
    await opdAnswers(env, officer, title, answer);

    await confirmResolved(env, citizen, creds, answer);
    await scoreboard(env, admin, opd);
    await Promise.all([citizen.close(), admin.close(), officer.close()]);
  });

  it('statistics and sign-in pages pass axe', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    env.art = artifacts('stack-halaman');
    const page = await browser.context.newPage();
    for (const [route, name] of [['#/', 'beranda'], ['#/statistik', 'statistik'], ['#/staf/masuk', 'masuk'], ['#/lacak', 'lacak']]) {
      await page.goto(`${env.web}${route}`);
      await page.locator('h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      await evidence(env, page, name);
    }
    await page.close();
  });

  it('360 px wide: no horizontal scroll; every form control reachable by keyboard', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    env.art = artifacts('stack-360');
    const page = await browser.context.newPage();
    const problems = await mobileChecks(env, page, ['#/', '#/lapor', '#/lacak', '#/statistik', '#/staf/masuk']);
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('axe found no serious or critical violation, and no page threw', (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    assert.deepEqual(env.axeFailures, []);
    assert.deepEqual(browser.problems, []);
  });
});
