// Shared helpers of the browser tests: processes, Chromium, screenshots, axe, layout checks.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
export const WEB_DIR = path.join(ROOT, 'web');
export const ARTIFACTS = path.resolve(process.env.ARTIFACTS_DIR || path.join(ROOT, 'test-artifacts', 'web'));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const PYTHON = process.env.PYTHON || 'python3';

// The flags the project runs Chromium with (headless is added by Playwright's headless mode).
export const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

// ---- processes --------------------------------------------------------------------------

const started = [];

/** Start a process in its own group; stopAll() ends exactly these, by id. */
export function start(cmd, args, { cwd = ROOT, env = {}, name = cmd, logFile } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const log = fs.openSync(logFile || path.join(ARTIFACTS, `${name}.log`), 'a');
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', log, log] });
  started.push(child);
  child.on('exit', () => fs.closeSync(log));
  return child;
}

export async function stopAll() {
  for (const child of started.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const gone = await Promise.race([
      new Promise((r) => child.once('exit', () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!gone) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

export async function isUp(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.status < 500;
  } catch {
    return false;
  }
}

export async function waitForHttp(url, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await isUp(url)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/**
 * Serve web/ like `make run` does: chalicelib/local/web_server.py, with the Content-Security-Policy
 * that CloudFront sends (API and upload host = `api`), so a CSP violation fails these tests.
 */
export async function serveWeb(port, { api } = {}) {
  const args = ['-m', 'chalicelib.local.web_server', '--port', String(port), '--bind', '127.0.0.1'];
  if (api) args.push('--api', api, '--upload', api);
  start(PYTHON, args, { name: 'web-server' });
  await waitForHttp(`http://127.0.0.1:${port}/index.html`);
  return `http://127.0.0.1:${port}/`;
}

// Map tiles come from the internet in production; the tests answer them with one grey PNG.
export const TILE_PATTERN = 'https://tile.openstreetmap.org/**';

// ---- browser ----------------------------------------------------------------------------

/**
 * Chromium with a fresh user-data-dir. apiBase, when given, replaces config.js for every page,
 * the way a deploy writes it.
 */
export async function launch({ apiBase, auth = { mode: 'local' }, viewport = { width: 1280, height: 900 } } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'laporkbb-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    locale: 'id-ID',
    timezoneId: 'Asia/Jakarta',
    geolocation: { latitude: -6.790123, longitude: 107.640456, accuracy: 20 }, // Cikole, Lembang
    permissions: ['geolocation', 'clipboard-read', 'clipboard-write'],
    acceptDownloads: true,
  });
  context.setDefaultTimeout(15000);
  if (apiBase) {
    await context.route('**/config.js', (route) => route.fulfill({
      contentType: 'application/javascript; charset=utf-8',
      body: `window.LAPOR_KBB_CONFIG = ${JSON.stringify({ apiBase, auth })};`,
    }));
  }
  await context.route(TILE_PATTERN, (route) => route.fulfill({ contentType: 'image/png', body: pngPhoto(256, 256) }));
  // A Content-Security-Policy violation is a test failure (watch() collects console errors).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile || ''}:${e.lineNumber || ''})`);
    });
  });
  const problems = [];
  context.on('page', (page) => watch(page, problems));
  for (const p of context.pages()) watch(p, problems);
  return {
    context,
    problems,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // 4xx answers are logged by Chromium as "Failed to load resource": expected in these tests.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}

// ---- evidence ---------------------------------------------------------------------------

export function artifacts(suite) {
  const dir = path.join(ARTIFACTS, suite);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  return {
    dir,
    async shot(page, name) {
      n += 1;
      const file = path.join(dir, `${String(n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    write(name, content) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      return file;
    },
  };
}

/** axe-core on the current page; returns the serious and critical violations (also saved). */
export async function axe(page, art, name) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const summary = result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 10),
  }));
  art.write(`axe-${name}.json`, JSON.stringify({ url: page.url(), violations: summary, passes: result.passes.length }, null, 2));
  return bad.map((v) => `${v.id} (${v.impact}): ${v.help} -> ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

/** The page must not scroll sideways. */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const over = doc.scrollWidth - doc.clientWidth;
    if (over <= 0) return null;
    const wide = Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`);
    return `scrollWidth ${doc.scrollWidth} > clientWidth ${doc.clientWidth}: ${wide.join(', ')}`;
  });
}

/**
 * Every visible, enabled control is reached with Tab (radio groups: their tab stop, then every
 * option with the arrow keys) and shows a visible focus indicator. Returns a list of problems.
 */
export async function keyboardReach(page) {
  const expected = await page.evaluate(() => {
    const sel = 'a[href], button, input, select, textarea, summary, [tabindex]';
    const els = Array.from(document.querySelectorAll(sel)).filter((el) => {
      if (el.disabled || el.getAttribute('tabindex') === '-1' || el.closest('[inert]')) return false;
      if (el.type === 'hidden') return false;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'none') return false;
      if (el.closest('details:not([open])') && el.tagName !== 'SUMMARY') return false;
      return el.getClientRects().length > 0 || el.classList.contains('skip-link');
    });
    const out = [];
    const groups = {};
    els.forEach((el, i) => {
      el.dataset.kb = String(i);
      const name = el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent.trim())
        || el.textContent.trim() || el.name || el.tagName;
      if (el.type === 'radio') {
        (groups[el.name] = groups[el.name] || []).push(String(i));
      } else {
        out.push({ kb: String(i), name: name.slice(0, 60) });
      }
    });
    return { controls: out, radios: groups };
  });
  const problems = [];
  const reached = new Set();
  const radioStops = {};
  const total = expected.controls.length + Object.keys(expected.radios).length;
  // Tab starts from the last focused node, which a page may have set (its h1 after a route
  // change): focus the body itself so the walk starts at the top, and allow one wrap around.
  await page.evaluate(() => {
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
    document.body.setAttribute('tabindex', '-1');
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
  for (let i = 0; i < 2 * total + 15 && reached.size < total; i += 1) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const cs = getComputedStyle(el);
      const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
      const shadow = cs.boxShadow && cs.boxShadow !== 'none';
      return { kb: el.dataset.kb || null, type: el.type || '', name: el.name || '', visible: outline || shadow, tag: el.tagName };
    });
    if (!info || !info.kb) continue;
    if (!info.visible) problems.push(`no visible focus on ${info.tag} ${info.name}`);
    if (info.type === 'radio') radioStops[info.name] = info.kb;
    reached.add(info.kb);
  }
  for (const c of expected.controls) {
    if (!reached.has(c.kb)) problems.push(`not reachable with Tab: "${c.name}"`);
  }
  for (const [group, kbs] of Object.entries(expected.radios)) {
    if (!radioStops[group]) { problems.push(`radio group "${group}" not reachable with Tab`); continue; }
    await page.locator(`[data-kb="${radioStops[group]}"]`).focus();
    const seen = new Set([radioStops[group]]);
    for (let k = 0; k < kbs.length; k += 1) {
      await page.keyboard.press('ArrowDown');
      seen.add(await page.evaluate(() => document.activeElement && document.activeElement.dataset.kb));
    }
    for (const kb of kbs) if (!seen.has(kb)) problems.push(`radio ${group}[${kb}] not reachable with arrow keys`);
  }
  return [...new Set(problems)];
}

// ---- test data --------------------------------------------------------------------------

function crc32(buf) {
  let c;
  let crc = 0xffffffff;
  for (let n = 0; n < buf.length; n += 1) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A real PNG photo stand-in (a gradient), so servers that inspect images accept it. */
export function pngPhoto(width = 64, height = 48) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x += 1) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 255);
      raw[row + 2 + x * 3] = Math.round((y / height) * 255);
      raw[row + 3 + x * 3] = 120;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function todayWib() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

/** Poll until fn() returns a truthy value. */
export async function until(fn, { timeout = 15000, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ---- the local stack under test -----------------------------------------------------------

const VENV_PY = path.join(ROOT, '.venv', 'bin', 'python');
export const PY = process.env.PYTHON || (fs.existsSync(VENV_PY) ? VENV_PY : 'python3');

/**
 * The local stack these tests run against (`python -m chalicelib.local.stack run`, as `make run`):
 * API_BASE/WEB_BASE, else LAPOR_API_PORT/LAPOR_WEB_PORT (run.sh starts one on free ports), else
 * `make run`'s 8000/8080. START_STACK=1 starts one when none answers.
 */
export async function localStack() {
  const api = (process.env.API_BASE || `http://127.0.0.1:${process.env.LAPOR_API_PORT || 8000}`).replace(/\/+$/, '');
  const web = process.env.WEB_BASE || `http://127.0.0.1:${process.env.LAPOR_WEB_PORT || 8080}/`;
  if (!(await isUp(`${api}/health`))) {
    if (process.env.START_STACK !== '1') {
      throw new Error(`no local stack answers at ${api}/health: run \`make run\`, or tests/e2e/web/run.sh (starts one)`);
    }
    start(PY, ['-m', 'chalicelib.local.stack', 'run'], { name: 'local-stack' });
    await waitForHttp(`${api}/health`, 180000);
  }
  await waitForHttp(`${web.endsWith('/') ? web : `${web}/`}index.html`, 30000);
  return { api, web: web.endsWith('/') ? web : `${web}/` };
}

/** A staff token the local stack accepts: `python -m chalicelib.cli token`. */
export async function staffToken(role, opd) {
  const args = ['-m', 'chalicelib.cli', 'token', '--role', role, ...(opd ? ['--opd', opd] : [])];
  const out = await new Promise((resolve, reject) => {
    execFile(PY, args, { cwd: ROOT, timeout: 60000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  const line = out.trim().split('\n').map((l) => l.trim()).filter((l) => l.split('.').length === 3).pop();
  if (!line) throw new Error(`the CLI printed no JWT: ${out}`);
  return line;
}

/**
 * Cognito's hosted UI, answered in the browser (Playwright routing) for `domain`: authorize signs
 * in an admin at once (code with PKCE, or implicit), the token endpoint checks the verifier, and
 * /logout goes back. The tokens are the local stack's, so the API accepts them.
 */
export async function hostedUi(context, domain) {
  const codes = new Map();
  const b64url = (buf) => Buffer.from(buf).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  await context.route(`${domain}/oauth2/authorize**`, async (route) => {
    const q = new URL(route.request().url()).searchParams;
    const target = q.get('redirect_uri');
    const sep = target.includes('?') ? '&' : '?';
    let location;
    if (q.get('response_type') === 'code') {
      const code = crypto.randomUUID();
      codes.set(code, { challenge: q.get('code_challenge'), redirect: target, client: q.get('client_id') });
      location = `${target}${sep}code=${code}&state=${q.get('state') || ''}`;
    } else {
      const tok = await staffToken('admin');
      location = `${target}#id_token=${tok}&access_token=${tok}&token_type=Bearer&expires_in=3600&state=${q.get('state') || ''}`;
    }
    await route.fulfill({ status: 302, headers: { Location: location } });
  });
  await context.route(`${domain}/oauth2/token`, async (route) => {
    const form = new URLSearchParams(route.request().postData() || '');
    const grant = codes.get(form.get('code'));
    codes.delete(form.get('code'));
    const challenge = b64url(crypto.createHash('sha256').update(form.get('code_verifier') || '').digest());
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (!grant || grant.challenge !== challenge || grant.redirect !== form.get('redirect_uri') || grant.client !== form.get('client_id')) {
      await route.fulfill({ status: 400, headers: cors, contentType: 'application/json', body: '{"error":"invalid_grant"}' });
      return;
    }
    const tok = await staffToken('admin');
    await route.fulfill({ status: 200, headers: cors, contentType: 'application/json',
      body: JSON.stringify({ id_token: tok, access_token: tok, token_type: 'Bearer', expires_in: 3600 }) });
  });
  await context.route(`${domain}/logout**`, (route) => route.fulfill({
    status: 302, headers: { Location: new URL(route.request().url()).searchParams.get('logout_uri') || '/' },
  }));
}

/** What the stack sent (emails and SMS): `python -m chalicelib.cli outbox --json`. */
export async function outbox() {
  const out = await new Promise((resolve, reject) => {
    execFile(PY, ['-m', 'chalicelib.cli', 'outbox', '--json'], { cwd: ROOT, timeout: 60000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  return JSON.parse(out);
}

/** The staff list's reports with exactly this title (admin; the list holds every status). */
let listToken = null;
export async function reportsTitled(api, title) {
  listToken = listToken || staffToken('admin');
  const tok = await listToken;
  const r = await fetch(`${api}/staff/reports?limit=100`, { headers: { Authorization: `Bearer ${tok}` } });
  const body = await r.json();
  if (r.status !== 200) throw new Error(`staff list: ${r.status} ${JSON.stringify(body)}`);
  return body.items.filter((i) => i.title === title);
}

/** Width and height of a JPEG or PNG, read from its header. */
export function imageSize(buf) {
  if (buf[0] === 0x89 && buf[1] === 0x50) return { type: 'image/png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  if (buf[0] !== 0xff || buf[1] !== 0xd8) return { type: 'unknown' };
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) { i += 1; continue; }
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { type: 'image/jpeg', height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return { type: 'image/jpeg' };
}

/** POST a JSON body; the status and the parsed answer. */
export async function postJson(api, p, body, headers = {}) {
  const r = await fetch(`${api}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
