import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, pageText, type TestApp, type TestClient } from '../../../test/support/app.js';
import type { BookingConfirmation, BookingProvider } from './model/bookings.js';
import type { FormDefinitionInput } from './model/definition.js';

const SLUG = 'clinic-visit';

const clinicForm: FormDefinitionInput = {
  schemaVersion: 2,
  id: 'clinic_visit',
  slug: SLUG,
  title: 'Book a clinic visit',
  pages: [
    {
      id: 'you',
      slug: 'you',
      title: 'Your details',
      components: [
        { type: 'text', id: 'fullName', label: 'Full name', prefill: 'name' },
        { type: 'email', id: 'email', label: 'Email address' },
      ],
    },
    {
      id: 'when',
      slug: 'when',
      title: 'When can you come?',
      components: [{ type: 'appointment', id: 'slot', label: 'When can you come?', appointmentType: 'clinic' }],
    },
  ],
};

const TIMES = ['2030-03-04T10:00:00.000Z', '2030-03-04T10:30:00.000Z', '2030-03-05T09:00:00.000Z'];

/** A provider standing in for appointments: forms know nothing else about how times are kept. */
function fakeProvider() {
  const calls = { holds: [] as string[], releases: [] as string[], confirms: [] as { id: string; details: BookingConfirmation }[] };
  let next = 0;
  const refuseConfirm = new Set<string>();
  const provider: BookingProvider = {
    describe: (code) =>
      code === 'clinic' ? { name: 'Clinic', locations: [{ code: 'hall', name: 'Village Hall' }], questions: [], signInRequired: false } : undefined,
    times: (_type, location, { limit }) => {
      assert.equal(location, 'hall', 'the type’s only location');
      return Promise.resolve(TIMES.slice(0, limit).map((start) => ({ start: new Date(start), text: `At ${start}` })));
    },
    hold: (_type, _location, start) => {
      next += 1;
      calls.holds.push(start.toISOString());
      return Promise.resolve({ id: `h${next}`, key: `secret-${next}`, when: `At ${start.toISOString()}`, where: 'Village Hall' });
    },
    confirm: (hold, details) => {
      calls.confirms.push({ id: hold.id, details });
      if (refuseConfirm.has(hold.id)) return Promise.resolve({ taken: true as const });
      return Promise.resolve({ reference: `REF-${hold.id}`, when: 'Monday 4 March 2030 at 10am', where: 'Village Hall' });
    },
    release: (hold) => {
      calls.releases.push(hold.id);
      return Promise.resolve();
    },
  };
  return { provider, calls, refuseConfirm };
}

describe('appointment questions in the form runner', () => {
  let t: TestApp;
  const fake = fakeProvider();

  before(async () => {
    t = await createTestApp();
    t.services.forms.service.setBookingProvider(fake.provider);
    const published = await t.services.forms.service.publish(clinicForm, { actor: { type: 'system' } });
    assert.ok(published.ok, JSON.stringify(published));
  });
  after(async () => t?.close());

  async function atWhen(client: TestClient, email: string): Promise<string> {
    await client.get(`/forms/${SLUG}`);
    await client.post(`/forms/${SLUG}/start`, {});
    await client.get(`/forms/${SLUG}/you`);
    await client.post(`/forms/${SLUG}/you`, { fullName: 'Rae Visitor', email });
    return (await client.get(`/forms/${SLUG}/when`)).body;
  }

  test('times are offered as radios; a changed time is held afresh and the old hold let go; sending confirms the hold with the contact details', async () => {
    const client = t.client();
    const html = await atWhen(client, 'rae@example.com');
    assert.deepEqual(
      [...html.matchAll(/name="slot" type="radio" value="([^"]+)"/g)].map((match) => match[1]),
      TIMES,
    );
    assert.match(pageText(html), /Where: Village Hall/);
    let res = await client.post(`/forms/${SLUG}/when`, {});
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /<a href="#slot">Select a time<\/a>/);
    res = await client.post(`/forms/${SLUG}/when`, { slot: TIMES[0] ?? '' });
    assert.equal(res.headers.location, `/forms/${SLUG}/check-answers`);
    await client.get(`/forms/${SLUG}/when?change=1`);
    await client.post(`/forms/${SLUG}/when?change=1`, { slot: TIMES[0] ?? '' });
    assert.deepEqual(fake.calls.holds, [TIMES[0]], 'the same time keeps its hold');
    await client.get(`/forms/${SLUG}/when?change=1`);
    await client.post(`/forms/${SLUG}/when?change=1`, { slot: TIMES[1] ?? '' });
    assert.deepEqual(fake.calls.holds, [TIMES[0], TIMES[1]]);
    assert.deepEqual(fake.calls.releases, ['h1']);

    const check = await client.get(`/forms/${SLUG}/check-answers`);
    assert.match(pageText(check.body), new RegExp(`When can you come\\? At ${TIMES[1]}, Village Hall`));
    res = await client.post(`/forms/${SLUG}/check-answers`, {});
    assert.equal(res.headers.location, `/forms/${SLUG}/confirmation`);
    assert.deepEqual(fake.calls.confirms, [
      { id: 'h2', details: { contact: { name: 'Rae Visitor', email: 'rae@example.com' }, answers: {}, residentId: undefined } },
    ]);
    const confirmation = pageText((await client.get(`/forms/${SLUG}/confirmation`)).body);
    assert.match(confirmation, /Your appointment Booking reference REF-h2 When Monday 4 March 2030 at 10am Where Village Hall/);
  });

  test('a booking refused as the form is sent sends the resident back to choose again', async () => {
    const client = t.client();
    await atWhen(client, 'kim@example.com');
    await client.post(`/forms/${SLUG}/when`, { slot: TIMES[2] ?? '' });
    fake.refuseConfirm.add(`h${fake.calls.holds.length}`);
    await client.get(`/forms/${SLUG}/check-answers`);
    const res = await client.post(`/forms/${SLUG}/check-answers`, {});
    assert.equal(res.headers.location, `/forms/${SLUG}/when?change=1`);
    const page = await client.get(`/forms/${SLUG}/when?change=1`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<a href="#slot">That time has just been taken. Choose another time.<\/a>/);
    const again = await client.get(`/forms/${SLUG}/when?change=1`);
    assert.doesNotMatch(again.body, /That time has just been taken/, 'said once');
    await client.post(`/forms/${SLUG}/when?change=1`, { slot: TIMES[0] ?? '' });
    await client.get(`/forms/${SLUG}/check-answers`);
    assert.equal((await client.post(`/forms/${SLUG}/check-answers`, {})).headers.location, `/forms/${SLUG}/confirmation`);
  });
});
