import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, pageText, type TestApp } from '../../../../test/support/app.js';
import { signIn } from './test-helpers.js';

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('addresses from the gazetteer', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ seedDemo: true });
  });
  after(async () => {
    await t.close();
  });

  test('demo residents exist with an address, and an address can be chosen by postcode', async () => {
    const db = t.platform.database.db;
    const demo = await sql<{ email: string; is_demo: boolean; address: { uprn?: string } | null; verified: boolean }>`
      SELECT email, is_demo, address, email_verified_at IS NOT NULL AS verified FROM residents WHERE is_demo ORDER BY email`.execute(db);
    assert.deepEqual(
      demo.rows.map((r) => r.email),
      ['priya.shah@example.com', 'sam.taylor@example.com'],
    );
    assert.ok(
      demo.rows.every((r) => r.verified && r.address?.uprn),
      'verified, with a gazetteer address',
    );
    await t.services.account.residents.seedDemo();
    assert.equal((await sql`SELECT 1 FROM residents WHERE is_demo`.execute(db)).rows.length, 2, 'seeding twice changes nothing');

    const client = await signIn(t, 'sam.taylor@example.com', 'kingsmere-demo-resident');
    const { postcode, uprn, single_line } = (
      await sql<{
        postcode: string;
        uprn: string;
        single_line: string;
      }>`SELECT postcode, uprn, single_line FROM geo_addresses ORDER BY uprn DESC LIMIT 1`.execute(db)
    ).rows[0] ?? { postcode: '', uprn: '', single_line: '' };
    assert.ok(uprn, 'the gazetteer is seeded');
    const list = await client.get(`/account/details/address?postcode=${encodeURIComponent(postcode.toLowerCase().replace(' ', ''))}`);
    assert.equal(list.statusCode, 200);
    assert.match(list.body, new RegExp(`<option value="${uprn}"`));
    const none = await client.post('/account/details/address', { postcode, uprn: '' });
    assert.equal(none.statusCode, 400);
    assert.match(none.body, /id="uprn-error"[\s\S]*?Select an address/);
    const chosen = await client.post('/account/details/address', { postcode, uprn }, { csrf: csrfOf(none.body) });
    assert.equal(chosen.statusCode, 302);
    const details = pageText((await client.follow(chosen)).body);
    assert.match(details, /Your address has been updated/);
    assert.ok(details.includes(postcode), `${single_line} shown`);
    const stored = await sql<{ address: { uprn: string } }>`SELECT address FROM residents WHERE email = 'sam.taylor@example.com'`.execute(db);
    assert.equal(stored.rows[0]?.address.uprn, uprn);
  });
});
