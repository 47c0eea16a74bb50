// Compiles the TypeScript to dist/ and the stylesheets to dist/public/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
console.log('Built dist/ and dist/public/');
