// Compiles the TypeScript to dist/ and the stylesheets to dist/public/, copies Leaflet to dist/vendor/ and
// the platform's browser scripts to dist/scripts/, with brotli and gzip copies of each text file.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import path from 'node:path';
import * as sass from 'sass';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const out = path.join(root, 'dist/public');
mkdirSync(out, { recursive: true });
for (const name of ['resident', 'staff']) {
  const result = sass.compile(path.join(root, `src/platform/views/styles/${name}.scss`), {
    style: 'compressed',
    importers: [new sass.NodePackageImporter(root)],
    loadPaths: [root],
    quietDeps: true,
    logger: sass.Logger.silent,
  });
  writeFileSync(path.join(out, `${name}.css`), result.css);
}

// Leaflet, for the street report map, served by the platform itself.
const vendor = path.join(root, 'dist/vendor');
cpSync(path.join(root, 'node_modules/leaflet/dist'), path.join(vendor, 'leaflet'), {
  recursive: true,
  filter: (from) => !from.endsWith('.map') && !from.includes('-src'),
});

// Text assets are served compressed: brotli and gzip copies sit beside each file, made once here.
function compressFolder(folder) {
  for (const name of readdirSync(folder)) {
    const file = path.join(folder, name);
    if (statSync(file).isDirectory()) compressFolder(file);
    else if (/\.(css|js|mjs|svg)$/.test(name)) {
      const bytes = readFileSync(file);
      writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
      writeFileSync(`${file}.br`, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    }
  }
}
// GOV.UK Frontend's script and its images, icons and manifest.
const govuk = path.join(root, 'node_modules/govuk-frontend/dist/govuk');
cpSync(path.join(govuk, 'govuk-frontend.min.js'), path.join(vendor, 'govuk/govuk-frontend.min.js'));
cpSync(path.join(govuk, 'assets'), path.join(vendor, 'govuk/assets'), { recursive: true });

// The platform's own scripts (and the map's styles beside them), compressed the same way.
const scripts = path.join(root, 'dist/scripts');
cpSync(path.join(root, 'src/platform/views/public/js'), scripts, { recursive: true });
compressFolder(out);
compressFolder(vendor);
compressFolder(scripts);
console.log('Built dist/, dist/public/, dist/vendor/ and dist/scripts/');
