/**
 * Browser test harness: the real platform in-process, Debian's Chromium through playwright-core,
 * and an accessibility audit (axe, WCAG 2.2 AA) of every page a test lands on.
 *
 *   const site = useSite();                                   // one server and one browser per test file
 *   test('...', async () => {
 *     const page = await site.newPage({ javaScript: false });
 *     await page.visit('/account/register');
 *     await page.fillAndSubmit({ 'Email address': 'a@example.com' }, 'Continue');
 *     await page.expectErrorSummary(['Enter a password']);
 *     const email = await site.server.waitForEmail('a@example.com');
 *     await page.visit(site.server.linkIn(email));
 *   });
 *
 * Drive navigation through the page's helpers (visit, clickLink, clickButton, fillAndSubmit,
 * submit): each one waits for the page to settle, then audits it and fails the test on any
 * axe violation, CSP violation or uncaught script error. Use `page.page` (the Playwright page)
 * for reading and for interactions that stay on the same page.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response, type Route } from 'playwright-core';
import { start, type Running } from '../../src/main.js';
import type { CouncilProfile } from '#platform/council/index';
import { sql } from '#platform/db/index';
import { generateTotp, TOTP_PERIOD_SECONDS } from '#platform/security/totp';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;
type Violation = AxeResults['violations'][number];

// ---------------------------------------------------------------------------------------------
// The platform

export interface OutboxMessage {
  id: string;
  channel: 'email' | 'sms';
  recipient: string;
  subject: string | null;
  body: string;
  createdAt: Date;
}

export interface BoroughServer {
  /** Where the platform listens, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  running: Running;
  council: CouncilProfile;
  dataDir: string;
  /** The newest message to an address (email by default), or undefined. */
  latestEmail(recipient: string, channel?: 'email' | 'sms'): Promise<OutboxMessage | undefined>;
  /** Every message to an address, newest first. */
  messagesTo(recipient: string, channel?: 'email' | 'sms'): Promise<OutboxMessage[]>;
  /** Waits for a message to an address that arrived after `since` (and matches `subject`, if given). */
  waitForEmail(recipient: string, opts?: { since?: Date; subject?: string | RegExp; channel?: 'email' | 'sms'; timeoutMs?: number }): Promise<OutboxMessage>;
  /** The first link in a message (or the first whose path matches `pattern`), pointed at this server. */
  linkIn(message: OutboxMessage, pattern?: RegExp): string;
  stop(): Promise<void>;
}

/**
 * Starts the whole platform (`start('all')`, as `borough start` does) on a free loopback port,
 * over a fresh embedded database in a temporary folder, with the demo council loaded.
 *
 * When BOROUGH_TEST_TEMPLATE_DIR is set (the test runner sets it for each run), the first test
 * file to start keeps a copy of its newly migrated and seeded data folder there, and later files
 * start from a copy of it, which is many times faster than migrating and seeding a new database.
 */
export async function startServer(opts: { env?: Record<string, string>; fresh?: boolean } = {}): Promise<BoroughServer> {
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    BOROUGH_DEMO: 'true',
    // The demo borough's agency records for Signposts load in the background; journeys load their own.
    BOROUGH_DEMO_SIGNPOSTS: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  };
  const changesData = ['BOROUGH_DEMO', 'BOROUGH_COUNCIL_DIR', 'DATABASE_URL'].some((name) => opts.env && name in opts.env);
  const template = !opts.fresh && !changesData ? process.env.BOROUGH_TEST_TEMPLATE_DIR : undefined;
  const dataDir = template ? await copyOfTemplate(template, env) : mkdtempSync(path.join(tmpdir(), 'borough-browser-'));
  env.BOROUGH_DATA_DIR = dataDir;
  let running: Running;
  try {
    running = await start('all', env);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const address = running.app?.server.address();
  assert.ok(address && typeof address === 'object', 'the platform did not start a web server');
  const url = `http://127.0.0.1:${address.port}`;
  // Links the platform writes (emails, tracking pages) point at this server.
  running.platform.config.baseUrl = url;
  const { db } = running.platform.database;

  const messagesTo = async (recipient: string, channel: 'email' | 'sms' = 'email', limit = 50): Promise<OutboxMessage[]> => {
    const { rows } = await sql<{ id: string; channel: 'email' | 'sms'; recipient: string; subject: string | null; body: string; created_at: Date | string }>`
      SELECT id, channel, recipient, subject, body, created_at FROM notification_outbox
      WHERE lower(recipient) = lower(${recipient}) AND channel = ${channel}
      ORDER BY created_at DESC LIMIT ${limit}`.execute(db);
    return rows.map((r) => ({ id: r.id, channel: r.channel, recipient: r.recipient, subject: r.subject, body: r.body, createdAt: new Date(r.created_at) }));
  };

  return {
    url,
    running,
    council: running.platform.council.profile,
    dataDir,
    messagesTo: (recipient, channel) => messagesTo(recipient, channel),
    latestEmail: async (recipient, channel) => (await messagesTo(recipient, channel, 1))[0],
    async waitForEmail(recipient, { since, subject, channel = 'email', timeoutMs = 5000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const matches = (m: OutboxMessage) =>
        (!since || m.createdAt >= since) && (!subject || (typeof subject === 'string' ? m.subject === subject : subject.test(m.subject ?? '')));
      for (;;) {
        const found = (await messagesTo(recipient, channel)).find(matches);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = (await messagesTo(recipient, channel)).map((m) => `  ${m.createdAt.toISOString()} ${m.subject ?? m.body.slice(0, 60)}`);
          assert.fail(
            `No ${channel} to ${recipient}${subject ? ` with subject ${String(subject)}` : ''} within ${timeoutMs}ms. Messages to that address:\n${seen.join('\n') || '  (none)'}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    linkIn(message, pattern) {
      const links = [...message.body.matchAll(/https?:\/\/[^\s<>"')\]]+/g)].map((m) => new URL(m[0].replace(/[.,;:]+$/, '')));
      const link = links.find((l) => !pattern || pattern.test(l.pathname + l.search));
      assert.ok(link, `No link${pattern ? ` matching ${String(pattern)}` : ''} in the message "${message.subject ?? ''}":\n${message.body}`);
      return `${url}${link.pathname}${link.search}${link.hash}`;
    },
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new data folder copied from the run's template, which the first caller creates. */
async function copyOfTemplate(template: string, env: NodeJS.ProcessEnv): Promise<string> {
  const lock = `${template}.lock`;
  const deadline = Date.now() + 120_000;
  while (!existsSync(template)) {
    let mine = false;
    try {
      mkdirSync(path.dirname(template), { recursive: true });
      mkdirSync(lock);
      mine = true;
    } catch {
      // Another test file is making the template.
    }
    if (mine) {
      const partial = `${template}.partial`;
      try {
        rmSync(partial, { recursive: true, force: true });
        const seeding = await start('all', { ...env, BOROUGH_DATA_DIR: partial });
        await seeding.stop();
        rmSync(path.join(partial, 'borough.lock'), { force: true });
        renameSync(partial, template);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline) return mkdtempSync(path.join(tmpdir(), 'borough-browser-'));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'borough-browser-'));
  cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

// ---------------------------------------------------------------------------------------------
// The browser

export interface BoroughBrowser {
  browser: Browser;
  /** A page in a fresh context (its own cookies), with JavaScript on or off. */
  newPage(opts: { javaScript: boolean; baseUrl: string }): Promise<BoroughPage>;
  close(): Promise<void>;
}

/** Debian's Chromium, headless; each `newPage` gets a new context, and the profile is temporary. */
export async function launchBrowser(): Promise<BoroughBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  let auditor: Promise<Page> | undefined;
  const pages = new Set<BoroughPage>();
  const clean = new Set<string>();
  return {
    browser,
    async newPage({ javaScript, baseUrl }) {
      const context = await browser.newContext({ javaScriptEnabled: javaScript, baseURL: baseUrl, locale: 'en-GB', timezoneId: 'Europe/London' });
      const page = new BoroughPage(context, await context.newPage(), javaScript, {
        // Chromium cannot run axe in a page whose scripts are off, so those pages are audited as a
        // copy of their rendered document in a separate scripted page (scripts removed).
        auditorPage: () => (auditor ??= browser.newContext({ javaScriptEnabled: true }).then((c) => c.newPage())),
        // A document identical to one already found clean (but for nonces and tokens) is not audited again.
        clean,
      });
      pages.add(page);
      page.onClose(() => pages.delete(page));
      return page;
    },
    async close() {
      for (const page of [...pages]) await page.close({ check: false });
      await browser.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One server and one browser per test file

export interface Site {
  server: BoroughServer;
  browser: BoroughBrowser;
  newPage(opts: { javaScript: boolean }): Promise<BoroughPage>;
}

/** Signs the page in as the demo council's staff member with this role: password, then the authenticator code. */
export async function staffSignsIn(site: Site, page: BoroughPage, role: string): Promise<void> {
  const staff = site.server.running.platform.council.demoUsers?.staff;
  assert.ok(staff, 'the demo council has staff users');
  await page.visit('/staff/sign-in');
  await page.fillAndSubmit({ 'Email address': `${role}@${staff.emailDomain}`, Password: staff.password }, 'Continue');
  // A code is refused once its time step has been used to sign the same person in, as a test file
  // may do twice in one step: the previous step's code (still accepted) first, then the current
  // step's, then the next step's once it comes.
  const stepMs = TOTP_PERIOD_SECONDS * 1000;
  const codes = [() => generateTotp(staff.totpSecret, { now: Date.now() - stepMs }), () => generateTotp(staff.totpSecret)];
  for (const code of codes) {
    await page.fillAndSubmit({ 'Enter the code from your authenticator app': code() }, 'Sign in');
    if (page.path === '/staff') return;
  }
  await new Promise((resolve) => setTimeout(resolve, stepMs - (Date.now() % stepMs) + 200));
  await page.fillAndSubmit({ 'Enter the code from your authenticator app': generateTotp(staff.totpSecret) }, 'Sign in');
  assert.equal(page.path, '/staff');
}

/** Registers before/after hooks that start the platform and Chromium once for the test file. */
export function useSite(opts: { env?: Record<string, string>; fresh?: boolean } = {}): Site {
  let server: BoroughServer | undefined;
  let browser: BoroughBrowser | undefined;
  const ready = <T>(value: T | undefined): T => {
    assert.ok(value, 'the site is not started yet: use it inside a test');
    return value;
  };
  before(async () => {
    [server, browser] = await Promise.all([startServer(opts), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
  return {
    get server() {
      return ready(server);
    },
    get browser() {
      return ready(browser);
    },
    newPage: ({ javaScript }) => ready(browser).newPage({ javaScript, baseUrl: ready(server).url }),
  };
}

// ---------------------------------------------------------------------------------------------
// A page that audits itself

export type FieldValue = string | boolean | string[];

export class BoroughPage {
  /** Console errors, in order (including resources that failed to load). */
  readonly consoleErrors: string[] = [];
  /** Content Security Policy violations reported on the console. */
  readonly cspViolations: string[] = [];
  /** Uncaught exceptions in the page's scripts. */
  readonly pageErrors: string[] = [];
  /** Pages audited so far (URLs). */
  readonly audited: string[] = [];
  /** The response that delivered the current document. */
  lastResponse: Response | null = null;

  private landed: string[] = [];
  private reported = { csp: 0, errors: 0 };
  private closeListeners: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly javaScript: boolean,
    private readonly audits: { auditorPage: () => Promise<Page>; clean: Set<string> },
  ) {
    page.on('domcontentloaded', () => this.landed.push(page.url()));
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) this.lastResponse = response;
    });
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      this.consoleErrors.push(text);
      // Code the tests inject (axe) runs without a source URL; the page's own code always has one.
      const injected = message.location().url === '';
      if (/Content[ -]Security[ -]Policy/i.test(text) && !injected) this.cspViolations.push(`${page.url()}: ${text}`);
    });
    page.on('pageerror', (error) => this.pageErrors.push(`${page.url()}: ${error.message}`));
  }

  /** The path and query of the current page, e.g. "/account/sign-in?next=%2F". */
  get path(): string {
    const url = new URL(this.page.url());
    return url.pathname + url.search;
  }

  /** Goes to a path (or full URL) and returns the final response, after any redirects. */
  async visit(url: string): Promise<Response> {
    await this.settle();
    const response = await this.page.goto(url, { waitUntil: 'load' });
    await this.settle();
    assert.ok(response, `no response for ${url}`);
    return response;
  }

  /** Follows a link by its accessible name. */
  async clickLink(name: string | RegExp, within?: Locator): Promise<void> {
    await this.act(() =>
      (within ?? this.page)
        .getByRole('link', { name, exact: typeof name === 'string' })
        .first()
        .click(),
    );
  }

  /** Presses a button by its accessible name (a submit button submits its form). */
  async clickButton(name: string | RegExp): Promise<void> {
    await this.act(() => this.page.getByRole('button', { name, exact: typeof name === 'string' }).click());
  }

  /**
   * Fills in a form by the fields' labels and submits it.
   * - text, email, password, textarea: a string
   * - a single checkbox: true or false
   * - radios: the group's legend and the chosen option's label (a string)
   * - a group of checkboxes: the legend and the labels to tick (string[])
   * - a select: its label and the option's text
   * - a GOV.UK date input: the legend and "day/month/year"
   * `button` is the submit button's name; by default the form's first submit button.
   */
  async fillAndSubmit(fields: Record<string, FieldValue>, button?: string | RegExp): Promise<void> {
    await this.settle();
    for (const [label, value] of Object.entries(fields)) await this.fill(label, value);
    await this.submit(button);
  }

  /** Fills one field (see fillAndSubmit for the kinds of field). */
  async fill(label: string, value: FieldValue): Promise<void> {
    const group = this.page.getByRole('group', { name: label, exact: true });
    const field = this.page.getByLabel(label, { exact: true });
    if ((await field.count()) === 0 && (await group.count()) > 0) return this.fillGroup(group.first(), label, value);
    assert.equal(await field.count(), 1, `expected one field labelled "${label}" on ${this.path}, found ${await field.count()}`);
    const kind = await field.evaluate((el) => (el instanceof HTMLInputElement ? el.type : el.tagName.toLowerCase()));
    if (kind === 'checkbox' || kind === 'radio') {
      assert.equal(typeof value, 'boolean', `"${label}" is a ${kind}: give true or false`);
      await field.setChecked(value as boolean);
    } else if (kind === 'select') await field.selectOption({ label: String(value) });
    else if (kind === 'file') await field.setInputFiles(Array.isArray(value) ? value : [String(value)]);
    else await field.fill(String(value));
  }

  private async fillGroup(group: Locator, legend: string, value: FieldValue): Promise<void> {
    const [day, month, year] = ['Day', 'Month', 'Year'].map((part) => group.getByLabel(part, { exact: true }));
    if (typeof value === 'string' && day && month && year && (await day.count()) === 1 && (await year.count()) === 1) {
      const parts = value.split(/[/\-. ]/);
      assert.equal(parts.length, 3, `"${legend}" is a date: give "day/month/year"`);
      const [d = '', m = '', y = ''] = parts;
      await day.fill(d);
      await month.fill(m);
      await year.fill(y);
      return;
    }
    if (Array.isArray(value)) {
      for (const box of await group.getByRole('checkbox').all()) await box.setChecked(false);
      for (const option of value) await group.getByLabel(option, { exact: true }).check();
      return;
    }
    assert.equal(typeof value, 'string', `"${legend}" is a group of options: give the label of the one to choose`);
    await group.getByLabel(value as string, { exact: true }).check();
  }

  /** Submits the form: presses the named button, or the main form's first submit button. */
  async submit(button?: string | RegExp): Promise<void> {
    const target = button
      ? this.page.getByRole('button', { name: button, exact: typeof button === 'string' })
      : this.page.locator('main form button[type="submit"], main form button:not([type]), main form input[type="submit"]').first();
    await this.act(() => target.click());
  }

  /** The text of the page's h1. */
  async heading(): Promise<string> {
    return (await this.page.locator('h1').first().innerText()).trim();
  }

  /** The visible text of the main content. */
  async text(): Promise<string> {
    return (await this.page.locator('main').innerText()).replace(/\s+/g, ' ').trim();
  }

  async expectHeading(expected: string | RegExp): Promise<void> {
    const actual = await this.heading();
    if (typeof expected === 'string') assert.equal(actual, expected, `heading on ${this.path}`);
    else assert.match(actual, expected, `heading on ${this.path}`);
  }

  /**
   * The GOV.UK error summary lists exactly these messages, in order; each links to a field that
   * shows the same message beside it; the title starts "Error:"; with JavaScript the summary has focus.
   */
  async expectErrorSummary(messages: string[]): Promise<void> {
    const summary = this.page.locator('.govuk-error-summary');
    assert.equal(await summary.count(), 1, `expected an error summary on ${this.path}`);
    const links = summary.locator('.govuk-error-summary__list a');
    const listed = (await links.allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(listed, messages, `error summary on ${this.path}`);
    assert.match(await this.page.title(), /^Error: /, 'the page title starts "Error: " when there are errors');
    const inline = (await this.page.locator('.govuk-error-message').allInnerTexts()).map((t) => t.replace(/^Error:\s*/, '').trim());
    for (const [i, message] of messages.entries()) {
      const href = (await links.nth(i).getAttribute('href')) ?? '';
      assert.ok(href.startsWith('#'), `the error "${message}" links to a field on the page`);
      const id = decodeURIComponent(href.slice(1));
      assert.equal(await this.page.locator(`[id="${id.replace(/"/g, '\\"')}"]`).count(), 1, `the error "${message}" links to #${id}, which is not on the page`);
      assert.ok(inline.includes(message), `the error "${message}" is also shown beside its field (found: ${JSON.stringify(inline)})`);
    }
    if (this.javaScript) {
      const focused = await this.page.evaluate(() => !!document.activeElement?.closest('.govuk-error-summary'));
      assert.ok(focused, 'with JavaScript on, the error summary has focus');
    }
  }

  async expectNoErrorSummary(): Promise<void> {
    const listed = await this.page.locator('.govuk-error-summary__list').allInnerTexts();
    assert.equal(listed.length, 0, `unexpected error summary on ${this.path}: ${listed.join('; ')}`);
  }

  /** Audits the current page now (navigation helpers do this by themselves). */
  async checkAccessibility(): Promise<void> {
    const url = this.page.url();
    const html = await this.page.content();
    const viewport = this.page.viewportSize();
    const key = createHash('sha256')
      .update(`${this.javaScript} ${viewport?.width}x${viewport?.height} ${new URL(url).origin}\n`)
      .update(html.replace(/\bnonce="[^"]*"/g, '').replace(/(name="_csrf"[^>]*value=")[^"]*"/g, '$1"'))
      .digest('hex');
    this.audited.push(url);
    if (this.audits.clean.has(key)) return;
    const results = await this.runAxe(url, html);
    const violations = withoutKnownFrontendIssues(results.violations);
    if (violations.length) assert.fail(formatViolations(url, this.javaScript, violations));
    this.audits.clean.add(key);
  }

  /** Asserts that no CSP violation or uncaught script error has happened on any page so far. */
  expectNoScriptProblems(): void {
    assert.deepEqual(this.cspViolations, [], 'Content Security Policy violations');
    assert.deepEqual(this.pageErrors, [], 'uncaught errors in page scripts');
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Audits any page not yet audited, then closes the page's context. */
  async close({ check = true } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (check) await this.settle();
    } finally {
      this.closed = true;
      await this.context.close().catch(() => undefined);
      for (const listener of this.closeListeners) listener();
    }
  }

  /** Runs an action that may navigate, then waits for the page to settle and audits where it lands. */
  private async act(action: () => Promise<unknown>): Promise<void> {
    await this.settle();
    await action();
    await this.settle();
  }

  /** Waits for loading to finish; audits a newly landed page; fails on new script problems. */
  private async settle(): Promise<void> {
    await this.page.waitForLoadState('load');
    const csp = this.cspViolations.slice(this.reported.csp);
    const errors = this.pageErrors.slice(this.reported.errors);
    this.reported = { csp: this.cspViolations.length, errors: this.pageErrors.length };
    assert.deepEqual(csp, [], 'Content Security Policy violations');
    assert.deepEqual(errors, [], 'uncaught errors in page scripts');
    if (this.landed.length === 0) return;
    const missed = this.landed.slice(0, -1);
    this.landed = [];
    assert.deepEqual(missed, [], 'pages were left before their accessibility check: navigate with the page helpers (visit, clickLink, submit...)');
    await this.checkAccessibility();
  }

  private async runAxe(url: string, html: string): Promise<AxeResults> {
    // Legacy mode runs axe in the page itself: half the time, and Borough pages have no cross-origin frames.
    if (this.javaScript) return new AxeBuilder({ page: this.page }).withTags(AXE_TAGS).setLegacyMode().analyze();
    const copy = html
      .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
      .replace(/<noscript\b([^>]*)>/gi, '<div data-noscript$1>')
      .replace(/<\/noscript>/gi, '</div>');
    const auditor = await this.audits.auditorPage();
    const viewport = this.page.viewportSize();
    if (viewport) await auditor.setViewportSize(viewport);
    const exact = new URL(url).href;
    const matches = (u: URL) => u.href === exact;
    const serve = (route: Route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: copy });
    await auditor.route(matches, serve);
    try {
      await auditor.goto(url, { waitUntil: 'load' });
    } finally {
      await auditor.unroute(matches, serve);
    }
    return new AxeBuilder({ page: auditor }).withTags(AXE_TAGS).setLegacyMode().analyze();
  }
}

function formatViolations(url: string, javaScript: boolean, violations: Violation[]): string {
  const lines = [`Accessibility violations on ${url} (JavaScript ${javaScript ? 'on' : 'off'}):`];
  for (const v of violations) {
    lines.push(`- ${v.id} (${v.impact ?? 'unknown impact'}): ${v.help} ${v.helpUrl}`);
    for (const node of v.nodes.slice(0, 5)) {
      lines.push(`    at ${node.target.join(' ')}: ${node.html.slice(0, 200)}`);
      if (node.failureSummary) lines.push(`      ${node.failureSummary.replace(/\n\s*/g, ' ')}`);
    }
    if (v.nodes.length > 5) lines.push(`    ...and ${v.nodes.length - 5} more`);
  }
  return lines.join('\n');
}

/** The Content-Security-Policy directives of a response, by name. */
/**
 * GOV.UK Frontend's radios script marks a radio that reveals a question with `aria-expanded`,
 * a choice its maintainers made from user research and list as a known issue; axe reports the
 * attribute as not allowed on a radio. Only that, on GOV.UK radios, is let through.
 */
function withoutKnownFrontendIssues(violations: AxeResults['violations']): AxeResults['violations'] {
  return violations.flatMap((violation) => {
    if (violation.id !== 'aria-allowed-attr') return [violation];
    const nodes = violation.nodes.filter(
      (node) => !(node.html.includes('govuk-radios__input') && node.any.concat(node.all, node.none).every((check) => /aria-expanded/.test(check.message))),
    );
    return nodes.length ? [{ ...violation, nodes }] : [];
  });
}

export function cspDirectives(response: Response): Map<string, string[]> {
  const header = response.headers()['content-security-policy'] ?? '';
  const directives = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}
