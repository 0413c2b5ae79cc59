// Copies the browser libraries the web client ships (Leaflet, pinned in package-lock.json) from
// node_modules into web/vendor/. The copy is committed, so `make run` and the deploy need no npm;
// `node vendor.mjs --check` (run by run.sh) fails when the committed copy differs from the pin.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.resolve(here, '../../../web');
const FILES = [
  ['leaflet/dist/leaflet.js', 'vendor/leaflet/leaflet.js'],
  ['leaflet/dist/leaflet.css', 'vendor/leaflet/leaflet.css'],
  ['leaflet/dist/images/marker-icon.png', 'vendor/leaflet/images/marker-icon.png'],
  ['leaflet/dist/images/marker-icon-2x.png', 'vendor/leaflet/images/marker-icon-2x.png'],
  ['leaflet/dist/images/marker-shadow.png', 'vendor/leaflet/images/marker-shadow.png'],
  ['leaflet/LICENSE', 'vendor/leaflet/LICENSE'],
];

const check = process.argv.includes('--check');
const stale = [];
for (const [from, to] of FILES) {
  const src = fs.readFileSync(path.join(here, 'node_modules', from));
  const dest = path.join(web, to);
  if (check) {
    if (!fs.existsSync(dest) || !src.equals(fs.readFileSync(dest))) stale.push(to);
  } else {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, src);
  }
}
if (stale.length) {
  console.error(`web/ differs from the pinned npm packages: ${stale.join(', ')}. Run: node tests/e2e/web/vendor.mjs`);
  process.exit(1);
}
