import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { hashPassword } from '#platform/security/passwords';
import { createTestApp, pageText } from '../../../../test/support/app.js';
import { browser, emailsTo } from './test-helpers.js';

describe('demo residents in production', () => {
  test('are refused at sign-in', async () => {
    const t = await createTestApp({
      env: {
        NODE_ENV: 'production',
        BOROUGH_DEMO: 'false',
        SESSION_SECRET: 'a production session secret that is long enough',
        BOROUGH_BASE_URL: 'https://council.example',
        BOROUGH_MAIL: 'smtp',
        SMTP_URL: 'smtp://127.0.0.1:2',
      },
    });
    try {
      await assert.rejects(t.services.account.residents.seedDemo());
      await sql`INSERT INTO residents (email, password_hash, email_verified_at, is_demo) VALUES ('sam.taylor@example.com', ${await hashPassword('kingsmere-demo-resident')}, now(), true)`.execute(
        t.platform.database.db,
      );
      const client = browser(t, { https: true });
      await client.get('/account/sign-in');
      const res = await client.post('/account/sign-in', { email: 'sam.taylor@example.com', password: 'kingsmere-demo-resident' });
      assert.equal(res.statusCode, 403);
      assert.match(pageText(res.body), /Demonstration accounts cannot be used/);
      await client.get('/account/sign-in/email-link');
      const link = await client.post('/account/sign-in/email-link', { email: 'sam.taylor@example.com' });
      assert.equal(link.statusCode, 200);
      assert.equal((await emailsTo(t, 'sam.taylor@example.com')).length, 0);
    } finally {
      await t.close();
    }
  });
});
