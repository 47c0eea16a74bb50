#!/usr/bin/env node
// Runs Borough's benchmarks one after another: every bench/*.mjs except this file, or only the
// ones named (`npm run bench -- foundation`). Exits non-zero if any benchmark fails.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const self = path.basename(fileURLToPath(import.meta.url));

const available = readdirSync(here)
  .filter((name) => name.endsWith('.mjs') && name !== self)
  .sort();

// Names first, then options for the benchmarks, values included: `signposts-http --people 5000 --postgres`.
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('--'));
const named = firstOption < 0 ? args : args.slice(0, firstOption);
const passThrough = firstOption < 0 ? [] : args.slice(firstOption);

const chosen = [];
for (const name of named) {
  const file = path.basename(name).endsWith('.mjs') ? path.basename(name) : `${path.basename(name)}.mjs`;
  if (file === self || !existsSync(path.join(here, file))) {
    console.error(`No benchmark "${name}". Available: ${available.map((f) => f.replace(/\.mjs$/, '')).join(', ') || 'none'}`);
    process.exit(2);
  }
  chosen.push(file);
}
const benchmarks = chosen.length ? chosen : available;
if (!benchmarks.length) {
  console.error('No benchmarks found in bench/.');
  process.exit(2);
}

let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill(signal);
  });
}

const outcomes = [];
for (const file of benchmarks) {
  console.log(`\n=== ${file.replace(/\.mjs$/, '')} ===`);
  const t0 = performance.now();
  const code = await new Promise((resolve) => {
    current = spawn(process.execPath, [path.join(here, file), ...passThrough], { stdio: 'inherit' });
    current.once('error', (error) => {
      console.error(error.message);
      resolve(1);
    });
    current.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  current = undefined;
  outcomes.push({ file, code, seconds: Math.round((performance.now() - t0) / 100) / 10 });
}

console.log('\nBenchmarks');
for (const o of outcomes) console.log(`  ${o.code === 0 ? 'ok    ' : 'FAILED'}  ${o.file.replace(/\.mjs$/, '').padEnd(20)} ${o.seconds} s`);
process.exitCode = outcomes.some((o) => o.code !== 0) ? 1 : 0;
