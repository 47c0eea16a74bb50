#!/usr/bin/env node
// The borough command line. Production runs the compiled JavaScript in dist/ (built by `npm install`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('Borough is not built yet. Run "npm install" (or "npm run build") first.');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
