import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cspDirectives, useSite, type BoroughPage } from '../support/browser.js';

const site = useSite();

const PAGES = [
  { path: '/', name: 'home page' },
  { path: '/accessibility', name: 'accessibility statement', heading: /accessibility/i },
  { path: '/privacy', name: 'privacy notice', heading: /privacy/i },
  { path: '/cookies', name: 'cookies page', heading: /cookies/i },
  { path: '/contact', name: 'contact page', heading: /contact/i },
];

for (const javaScript of [true, false]) {
  describe(`site pages with JavaScript ${javaScript ? 'on' : 'off'}`, () => {
    let page: BoroughPage;
    before(async () => {
      page = await site.newPage({ javaScript });
    });
    after(async () => {
      await page?.close();
    });

    for (const { path, name, heading } of PAGES) {
      test(`the ${name} has a heading and a title naming the service`, async () => {
        const response = await page.visit(path);
        assert.equal(response.status(), 200);
        const h1 = await page.heading();
        assert.ok(h1.length > 0, 'the page has a heading');
        if (heading) assert.match(h1, heading);
        assert.ok((await page.page.title()).endsWith(` - ${site.server.council.serviceName}`), 'the title ends with the service name');
      });
    }

    test('the header names the council and links to the home page', async () => {
      await page.visit('/privacy');
      const banner = page.page.getByRole('banner');
      assert.ok((await banner.innerText()).includes(site.server.council.logo.text));
      await page.clickLink(site.server.council.logo.text, banner);
      assert.equal(page.path, '/');
    });

    test('the skip link is the first thing to tab to, and skips to the main content', async () => {
      await page.visit('/');
      await page.page.keyboard.press('Tab');
      const skip = page.page.locator(':focus');
      assert.equal((await skip.innerText()).trim(), 'Skip to main content');
      assert.equal(await skip.getAttribute('href'), '#main-content');
      assert.equal(await page.page.locator('main#main-content').count(), 1);
      await page.page.keyboard.press('Enter');
      assert.equal(new URL(page.page.url()).hash, '#main-content');
      await page.page.keyboard.press('Tab');
      const inMain = await page.page.locator(':focus').evaluate((el) => !!el.closest('main'));
      assert.ok(inMain, 'after the skip link, the next Tab goes into the main content');
    });

    test('the footer links to the accessibility statement, privacy notice, cookies and contact pages', async () => {
      const expected = [
        { text: 'Accessibility statement', path: '/accessibility' },
        { text: 'Privacy notice', path: '/privacy' },
        { text: 'Cookies', path: '/cookies' },
        { text: `Contact ${site.server.council.shortName}`, path: '/contact' },
      ];
      for (const link of expected) {
        await page.visit('/');
        await page.clickLink(link.text, page.page.locator('.govuk-footer'));
        assert.equal(page.path, link.path, `the footer link "${link.text}"`);
        assert.equal(page.lastResponse?.status(), 200);
      }
      assert.ok((await page.page.locator('.govuk-footer').innerText()).includes(site.server.council.name), 'the footer names the council');
    });

    test('every page has one banner, one main and one contentinfo landmark', async () => {
      for (const path of ['/', '/contact', '/no-such-page-here']) {
        await page.visit(path);
        for (const role of ['banner', 'main', 'contentinfo'] as const) {
          assert.equal(await page.page.getByRole(role).count(), 1, `${path} has one ${role} landmark`);
        }
      }
    });

    test('an unknown address shows "Page not found" with status 404', async () => {
      const response = await page.visit('/no-such-page-here');
      assert.equal(response.status(), 404);
      await page.expectHeading('Page not found');
      const contact = page.page.getByRole('main').getByRole('link', { name: `contact ${site.server.council.shortName}` });
      assert.equal(await contact.getAttribute('href'), '/contact');
    });

    test('the Content Security Policy gives scripts a fresh nonce and allows no inline script', async () => {
      const nonces = [];
      for (const path of ['/', '/contact']) {
        const response = await page.visit(path);
        const scriptSrc = cspDirectives(response).get('script-src');
        assert.ok(scriptSrc, 'the policy has a script-src directive');
        assert.ok(!scriptSrc.includes("'unsafe-inline'"), "script-src does not allow 'unsafe-inline'");
        assert.ok(!scriptSrc.includes("'unsafe-eval'"), "script-src does not allow 'unsafe-eval'");
        const nonce = scriptSrc.find((source) => /^'nonce-[A-Za-z0-9+/=_-]{16,}'$/.test(source));
        assert.ok(nonce, `script-src has a nonce: ${scriptSrc.join(' ')}`);
        const value = nonce.slice("'nonce-".length, -1);
        const tags = (await response.text()).match(/<script\b[^>]*>/g) ?? [];
        assert.ok(tags.length > 0, 'the page loads a script');
        for (const tag of tags) assert.ok(tag.includes(`nonce="${value}"`), `the script tag carries the nonce: ${tag}`);
        nonces.push(value);
      }
      assert.notEqual(nonces[0], nonces[1], 'every response has a new nonce');
      const enhanced = await page.page.evaluate(() => document.body.classList.contains('govuk-frontend-supported'));
      assert.equal(enhanced, javaScript, javaScript ? 'the page script ran under the policy' : 'no script ran');
    });

    test('no page reported a Content Security Policy violation or a script error', () => {
      assert.ok(page.audited.length >= PAGES.length, 'the pages were audited');
      page.expectNoScriptProblems();
      assert.deepEqual(
        page.consoleErrors.filter((e) => /security policy/i.test(e)),
        [],
      );
    });
  });
}
