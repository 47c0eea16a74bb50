import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/support/app.js';

describe('the demo council’s appointments', () => {
  let testApp: TestApp;
  before(async () => {
    testApp = await createTestApp({ seedDemo: true, env: { BOROUGH_DEMO_APPOINTMENTS: '40' } });
  });
  after(async () => testApp?.close());

  test('are booked across the shipped types, without emailing anyone, and only once', async () => {
    const rows = await testApp.services.appointments.service.repo.db
      .selectFrom('appointment_bookings')
      .select(['status', 'type_code', 'email', 'source'])
      .execute();
    assert.equal(rows.length, 40);
    assert.ok(rows.every((row) => row.status === 'confirmed' && row.source === 'staff' && row.email === null));
    assert.ok(new Set(rows.map((row) => row.type_code)).size >= 3, 'several types');
    assert.equal((await testApp.services.notifier.listMessages({ limit: 10 })).length, 0);
    assert.equal(await testApp.services.appointments.seedDemo({ count: 40 }), 0, 'a second start adds none');
  });
});
