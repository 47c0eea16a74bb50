#!/usr/bin/env node
// The one test command (`npm test`): lint, typecheck, build, then the test layers of
// ARCHITECTURE.md section 5. Layers whose tools are missing are skipped, and the summary says why.
//
//   node scripts/test.mjs                      everything
//   node scripts/test.mjs --only=unit          unit + HTTP tests over PGlite; or postgres, or browser (a,b for several)
//   node scripts/test.mjs --skip-lint          everything except eslint, prettier and the forms check
//   node scripts/test.mjs --only=unit security only test files whose path contains "security"
//
// TEST_DATABASE_URL names a PostgreSQL server for layer 3 (otherwise a throwaway one is started);
// CHROMIUM_PATH overrides /usr/bin/chromium; TEST_BUDGET_MINUTES (27) bounds the whole run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBinaries, isExecutable, LOOPBACK, postgresOwner, startPostgres } from './lib/postgres.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['unit', 'postgres', 'browser'];
const MINUTE = 60_000;
/** The whole run stops starting new work after this, so CI always ends well inside 30 minutes. */
const BUDGET_MS = Number(process.env.TEST_BUDGET_MINUTES ?? 27) * MINUTE;
const startedAt = Date.now();

// ---------------------------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 11)
      .join('\n')
      .replace(/^\/\/ ?/gm, ''),
  );
  process.exit(0);
}
let only;
let skipLint = false;
const filters = [];
for (const arg of args) {
  if (arg.startsWith('--only=')) {
    only = arg.slice('--only='.length).split(',').filter(Boolean);
    const unknown = only.filter((l) => !LAYERS.includes(l));
    if (unknown.length || only.length === 0) usage(`--only takes ${LAYERS.join(', ')}`);
  } else if (arg === '--skip-lint') skipLint = true;
  else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
  else filters.push(arg);
}
function usage(message) {
  console.error(`test: ${message}\nUsage: node scripts/test.mjs [--only=unit|postgres|browser] [--skip-lint] [path filter ...]`);
  process.exit(2);
}
const wanted = (layer) => !only || only.includes(layer);

// ---------------------------------------------------------------------------------------------
// Output

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint('1');
const green = paint('32');
const red = paint('31');
const yellow = paint('33');
const dim = paint('2');
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;
const byResult = { passed: green, failed: red, skipped: yellow };

function heading(text) {
  const line = `==> ${text} `;
  console.log(`\n${bold(line + '='.repeat(Math.max(3, 100 - line.length)))}`);
}

// ---------------------------------------------------------------------------------------------
// Processes: each in its own process group so a time-out or Ctrl-C ends everything it started.

const running = new Set();
const cleanups = [];

/**
 * Runs a command with output passed through; resolves with its exit code.
 * `onOutput` sees standard output (which is then piped rather than inherited).
 */
function run(command, commandArgs, { env = process.env, timeoutMs, onOutput } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, env, stdio: ['ignore', onOutput ? 'pipe' : 'inherit', 'inherit'], detached: true });
    running.add(child);
    let timedOut = false;
    const limit = Math.max(1000, Math.min(timeoutMs ?? BUDGET_MS, remainingBudget()));
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(red(`\nStopped after ${seconds(limit)}: the time limit for this step ran out.`));
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
    }, limit);
    if (onOutput) {
      child.stdout.on('data', (chunk) => {
        process.stdout.write(chunk);
        onOutput(chunk.toString());
      });
    }
    child.on('error', (error) => {
      console.error(red(`Could not run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), timedOut });
    });
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function remainingBudget() {
  return BUDGET_MS - (Date.now() - startedAt);
}

let shuttingDown = false;
async function shutDown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.error(red(`\n${signal}: stopping.`));
  for (const child of running) killGroup(child, 'SIGTERM');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  process.exit(130);
}
process.once('SIGINT', () => void shutDown('SIGINT'));
process.once('SIGTERM', () => void shutDown('SIGTERM'));
process.once('SIGHUP', () => void shutDown('SIGHUP'));
// Whoever reads the output has gone (a closed pipe): stop rather than test unseen.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') void shutDown('output closed');
});

/** Last resort when the runner exits abruptly: synchronous clean-ups only. */
const exitCleanups = [];
process.on('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
  for (const cleanup of exitCleanups) cleanup();
});

const tool = (relative) => path.join(root, 'node_modules', relative);

// ---------------------------------------------------------------------------------------------
// Test files

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out;
}

const matchesFilters = (file) => filters.length === 0 || filters.some((f) => file.includes(f));
const allTestFiles = [...walk(path.join(root, 'src')), ...walk(path.join(root, 'test'))].sort().filter(matchesFilters);
const isBrowserTest = (file) => file.split(path.sep).join('/').startsWith('test/browser/');
/** `*.postgres.test.ts` files test what only a PostgreSQL server has (pg_dump, several connections): they run in that layer alone. */
const isPostgresOnly = (file) => file.endsWith('.postgres.test.ts');
const integrationAndUnitFiles = allTestFiles.filter((f) => !isBrowserTest(f) && !isPostgresOnly(f));
const browserFiles = allTestFiles.filter(isBrowserTest);
/** Files that build the platform over a database the test layer chooses (createTestApp reads TEST_DATABASE_URL). */
const postgresFiles = [
  ...integrationAndUnitFiles.filter((f) => /\bcreateTestApp\b|\bTEST_DATABASE_URL\b/.test(readFileSync(path.join(root, f), 'utf8'))),
  ...allTestFiles.filter(isPostgresOnly),
];

// ---------------------------------------------------------------------------------------------
// Node's test runner

const [major, minor] = process.versions.node.split('.').map(Number);
/** Ends a test file's process once its tests are done, so an open handle cannot stall the run. */
const canForceExit = major >= 22 || (major === 20 && minor >= 14);

function testEnv(extra) {
  // The tests choose their own databases: a developer's DATABASE_URL must never reach them.
  const inherited = Object.entries(process.env).filter(([name]) => name !== 'DATABASE_URL' && name !== 'TEST_DATABASE_URL');
  return { ...Object.fromEntries(inherited), NODE_ENV: 'test', ...(colour ? { FORCE_COLOR: '1' } : {}), ...extra };
}

/**
 * Runs test files through node's test runner with the spec reporter, and reads its closing
 * counts (`ℹ pass N`, `ℹ fail N`, ...) from the output as it passes through.
 */
async function nodeTest(files, { env, concurrency, timeoutMs, fileTimeoutMs }) {
  const summary = {};
  let partial = '';
  const nodeArgs = [
    '--conditions=borough-source',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    // Applies to each file as a whole as well as to each test in it.
    `--test-timeout=${fileTimeoutMs}`,
    ...(canForceExit ? ['--test-force-exit'] : []),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    ...files,
  ];
  const result = await run(process.execPath, nodeArgs, {
    env,
    timeoutMs,
    onOutput: (text) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) readSummaryLine(line, summary);
    },
  });
  readSummaryLine(partial, summary);
  return { ...result, counts: countsOf(summary) };
}

/** The spec reporter closes with unindented lines such as "ℹ pass 12". */
function readSummaryLine(line, summary) {
  // eslint-disable-next-line no-control-regex
  const match = /^\S+ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
  if (match) summary[match[1]] = Number(match[2]);
}

function countsOf(summary) {
  if (summary.pass === undefined || summary.fail === undefined) return undefined;
  return { passed: summary.pass, failed: summary.fail + (summary.cancelled ?? 0), skipped: (summary.skipped ?? 0) + (summary.todo ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// Steps

const results = [];

async function step(name, title, body) {
  heading(title);
  const t0 = Date.now();
  let outcome;
  if (remainingBudget() <= 0) outcome = { result: 'failed', why: 'not started: the time budget for the run was used up' };
  else {
    try {
      outcome = await body();
    } catch (error) {
      console.error(red(error instanceof Error ? (error.stack ?? error.message) : String(error)));
      outcome = { result: 'failed', why: error instanceof Error ? error.message.split('\n')[0] : String(error) };
    }
  }
  const row = { name, ms: Date.now() - t0, why: '', ...outcome };
  results.push(row);
  const paintResult = byResult[row.result];
  console.log(paintResult(`--> ${name}: ${row.result} in ${seconds(row.ms)}${row.why ? ` (${row.why})` : ''}`));
  return row;
}

function skipped(why) {
  console.log(yellow(`Skipped: ${why}`));
  return { result: 'skipped', why };
}

function fromTests(run, files, note) {
  const problems = [run.timedOut && 'timed out', !run.counts && !run.timedOut && run.code !== 0 && 'the test runner stopped before its summary'];
  const why = [...problems, `${files.length} file${files.length === 1 ? '' : 's'}`, note].filter(Boolean).join('; ');
  return { result: run.code === 0 ? 'passed' : 'failed', counts: run.counts, why };
}

async function lint() {
  if (only) return skipped(`not selected (--only=${only.join(',')})`);
  if (skipLint) return skipped('--skip-lint');
  console.log(dim('$ eslint .'));
  const eslint = await run(process.execPath, [tool('eslint/bin/eslint.js'), '.'], { timeoutMs: 6 * MINUTE });
  if (eslint.code === 0) console.log(green('eslint: no problems'));
  console.log(dim('$ prettier --check .'));
  const prettier = await run(process.execPath, [tool('prettier/bin/prettier.cjs'), '--check', '.'], { timeoutMs: 4 * MINUTE });
  // The command line from source (dist/ is built later): every shipped form definition through the form linter.
  console.log(dim('$ borough forms check'));
  const formsCheck = "import { main } from './src/cli.ts'; process.exitCode = await main(['forms', 'check']);";
  const forms = await run(process.execPath, ['--conditions=borough-source', '--import', 'tsx', '--input-type=module', '--eval', formsCheck], {
    env: testEnv({}),
    timeoutMs: 2 * MINUTE,
  });
  const failed = [eslint.code !== 0 && 'eslint', prettier.code !== 0 && 'prettier', forms.code !== 0 && 'the forms check'].filter(Boolean);
  return failed.length ? { result: 'failed', why: `${failed.join(' and ')} reported problems` } : { result: 'passed' };
}

async function typecheck() {
  if (only) return skipped(`not selected (--only=${only.join(',')})`);
  console.log(dim('$ tsc --noEmit -p .'));
  const tsc = await run(process.execPath, [tool('typescript/bin/tsc'), '--noEmit', '-p', '.'], { timeoutMs: 6 * MINUTE });
  if (tsc.code === 0) console.log(green('No type errors.'));
  return tsc.code === 0 ? { result: 'passed' } : { result: 'failed', why: 'type errors' };
}

/** True when the built stylesheets or browser scripts are missing or older than their sources. */
function stylesheetsStale() {
  const newestIn = (folder) => (existsSync(folder) ? Math.max(0, ...readdirSync(folder).map((f) => statSync(path.join(folder, f)).mtimeMs)) : 0);
  const built = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);
  const styles = newestIn(path.join(root, 'src/platform/views/styles'));
  const scripts = newestIn(path.join(root, 'src/platform/views/public/js'));
  return (
    ['resident', 'staff'].some((name) => built(path.join(root, 'dist/public', `${name}.css`)) < styles) ||
    readdirSync(path.join(root, 'src/platform/views/public/js')).some((name) => built(path.join(root, 'dist/scripts', name)) < scripts)
  );
}

async function build() {
  if (only && !stylesheetsStale()) return skipped('dist/ is up to date (run without --only to rebuild)');
  console.log(dim('$ node scripts/build.mjs'));
  const built = await run(process.execPath, [path.join(root, 'scripts/build.mjs')], { timeoutMs: 6 * MINUTE });
  return built.code === 0 ? { result: 'passed' } : { result: 'failed', why: 'the build failed' };
}

async function unitLayer() {
  if (!wanted('unit')) return skipped(`not selected (--only=${only.join(',')})`);
  if (integrationAndUnitFiles.length === 0) return skipped('no test files found');
  console.log(dim(`${integrationAndUnitFiles.length} files, embedded PGlite database`));
  const outcome = await nodeTest(integrationAndUnitFiles, { env: testEnv({}), concurrency: 2, timeoutMs: 12 * MINUTE, fileTimeoutMs: 5 * MINUTE });
  return fromTests(outcome, integrationAndUnitFiles);
}

async function postgresLayer() {
  if (!wanted('postgres')) return skipped(`not selected (--only=${only.join(',')})`);
  if (postgresFiles.length === 0) return skipped('no test file uses createTestApp');
  const server = await providePostgres();
  if ('skip' in server) return skipped(server.skip);
  try {
    console.log(dim(`${postgresFiles.length} files against ${server.description}`));
    const outcome = await nodeTest(postgresFiles, {
      env: testEnv({ TEST_DATABASE_URL: server.url }),
      concurrency: 2,
      timeoutMs: 12 * MINUTE,
      fileTimeoutMs: 5 * MINUTE,
    });
    return fromTests(outcome, postgresFiles, server.description);
  } finally {
    await server.stop();
  }
}

async function browserLayer() {
  if (!wanted('browser')) return skipped(`not selected (--only=${only.join(',')})`);
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!isExecutable(chromium)) {
    return skipped(`Chromium not found at ${chromium} (install Debian's chromium package, or set CHROMIUM_PATH)`);
  }
  if (browserFiles.length === 0) return skipped('no test files in test/browser');
  console.log(dim(`${browserFiles.length} files in ${chromium}`));
  // The first test file to start the platform leaves a seeded data folder here for the others to copy.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'borough-browser-run-'));
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  cleanups.push(async () => removeScratch());
  exitCleanups.push(removeScratch);
  const outcome = await nodeTest(browserFiles, {
    env: testEnv({ CHROMIUM_PATH: chromium, BOROUGH_TEST_TEMPLATE_DIR: path.join(scratch, 'template') }),
    concurrency: 2,
    timeoutMs: 12 * MINUTE,
    fileTimeoutMs: 8 * MINUTE,
  });
  removeScratch();
  return fromTests(outcome, browserFiles, `Chromium at ${chromium}`);
}

// ---------------------------------------------------------------------------------------------
// A throwaway PostgreSQL server for the PostgreSQL layer

async function providePostgres() {
  if (process.env.TEST_DATABASE_URL) {
    const url = new URL(process.env.TEST_DATABASE_URL);
    return { url: process.env.TEST_DATABASE_URL, description: `TEST_DATABASE_URL (${url.hostname}:${url.port || 5432})`, stop: async () => {} };
  }
  const bin = findPostgresBinaries();
  if (!bin) return { skip: 'no PostgreSQL found (install postgresql, or set TEST_DATABASE_URL to a server the tests may create databases on)' };
  const owner = postgresOwner();
  if (owner === undefined) return { skip: 'running as root and there is no "postgres" user to run a PostgreSQL server as (set TEST_DATABASE_URL instead)' };
  const server = await startPostgres({
    bin,
    owner,
    settings: { max_connections: '200', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', shared_buffers: '64MB' },
  });
  if ('unavailable' in server) throw new Error(server.unavailable);
  cleanups.push(server.stop);
  exitCleanups.push(server.kill);
  const description = `PostgreSQL ${server.version} on ${LOOPBACK}:${server.port}`;
  console.log(dim(`Started a throwaway ${description}, started in ${seconds(server.ms)}${server.owner ? ` as ${server.owner}` : ''} in ${server.dir}`));
  return { url: server.url, description: `${description}, throwaway`, stop: server.stop };
}

// ---------------------------------------------------------------------------------------------
// The run

console.log(
  bold('Borough test suite') +
    dim(
      `  (node ${process.versions.node}, ${os.cpus().length} CPUs${only ? `, --only=${only.join(',')}` : ''}${filters.length ? `, files matching ${filters.join(' ')}` : ''})`,
    ),
);

await step('lint', '1/6 Lint: eslint . && prettier --check . && borough forms check', lint);
await step('typecheck', '2/6 Typecheck: tsc --noEmit -p .', typecheck);
await step('build', '3/6 Build: node scripts/build.mjs', build);
await step('unit + HTTP (PGlite)', '4/6 Layers 1+2: unit and HTTP integration tests over PGlite', unitLayer);
await step('HTTP on PostgreSQL', '5/6 Layer 3: HTTP integration tests on a PostgreSQL server', postgresLayer);
await step('browser (Chromium)', '6/6 Layer 4: browser tests in Chromium, with axe', browserLayer);

for (const cleanup of cleanups.splice(0).reverse()) await cleanup();

// ---------------------------------------------------------------------------------------------
// Summary

const totals = { passed: 0, failed: 0, skipped: 0 };
for (const row of results) {
  if (!row.counts) continue;
  totals.passed += row.counts.passed;
  totals.failed += row.counts.failed;
  totals.skipped += row.counts.skipped;
}
const table = [['step', 'result', 'tests (pass/fail/skip)', 'time', 'notes']];
for (const row of results) {
  const tests = row.counts ? `${row.counts.passed}/${row.counts.failed}/${row.counts.skipped}` : '';
  table.push([row.name, row.result, tests, seconds(row.ms), row.why]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
const format = (r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
heading(`Summary (${seconds(Date.now() - startedAt)})`);
console.log(bold(format(table[0])));
for (const row of table.slice(1)) console.log(byResult[row[1]](format(row)));
const anyFailed = results.some((r) => r.result === 'failed');
const skippedSteps = results.filter((r) => r.result === 'skipped').map((r) => r.name);
console.log('');
if (skippedSteps.length) console.log(yellow(`Skipped: ${skippedSteps.join(', ')} (see notes above).`));
console.log(anyFailed ? red(bold('FAILED')) : green(bold('PASSED')));
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = anyFailed ? 1 : 0;
