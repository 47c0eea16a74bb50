import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { answersToRaw, readPage } from '../runner/fields.js';
import { answerLines } from '../runner/summary.js';
import { bookedAppointments, bookingContactIds, type BookingCatalogue, type BookingDescription } from './bookings.js';
import { componentSchema, type AppointmentQuestion } from './components.js';
import { formDefinitionSchema, type FormDefinitionInput } from './definition.js';
import { lintForm, type Finding } from './linter.js';

type ComponentInput = FormDefinitionInput['pages'][number]['components'][number];

const visit = { type: 'appointment', id: 'visit', label: 'Choose a time', appointmentType: 'advice', location: 'office' } as const;

function formWith(appointment: Record<string, unknown> = visit, contact: ComponentInput[] = defaultContact()): FormDefinitionInput {
  return {
    schemaVersion: 2,
    id: 'advice',
    slug: 'advice',
    title: 'Ask for advice',
    pages: [
      { id: 'you', slug: 'you', title: 'About you', components: contact },
      { id: 'topic', slug: 'topic', title: 'Your question', components: [{ type: 'textarea', id: 'topic', label: 'What is it about?' }] },
      { id: 'when', slug: 'when', title: 'When', components: [appointment as ComponentInput] },
    ],
  };
}

function defaultContact(): ComponentInput[] {
  return [
    { type: 'name', id: 'applicant', label: 'Your name' },
    { type: 'email', id: 'email', label: 'Email address' },
    { type: 'ukPhone', id: 'phone', label: 'Phone number', optional: true },
  ];
}

const advice: BookingDescription = {
  name: 'Advice',
  locations: [
    { code: 'office', name: 'The office' },
    { code: 'phone', name: 'By phone' },
  ],
  questions: [
    { id: 'topic', label: 'What is it about?', required: true },
    { id: 'account', label: 'Account number', required: false },
    { id: 'kind', label: 'Kind of advice', required: false, values: ['bills', 'arrears'] },
  ],
  signInRequired: false,
};
const catalogue: BookingCatalogue = {
  describe: (code) => (code === 'advice' ? advice : code === 'members' ? { ...advice, name: 'Members', signInRequired: true } : undefined),
};

const messages = (findings: Finding[]): string[] => findings.map((finding) => `${finding.severity} ${finding.path}: ${finding.message}`);
const parse = (input: FormDefinitionInput) => formDefinitionSchema.parse(input);

describe('appointment questions', () => {
  test('the schema takes a type and location, offers 20 times unless told, and refuses what it does not know', () => {
    const parsed = componentSchema.parse(visit) as AppointmentQuestion;
    assert.equal(parsed.timesShown, 20);
    assert.equal(parsed.optional, false);
    assert.equal(componentSchema.safeParse({ ...visit, colour: 'red' }).success, false);
    assert.equal(componentSchema.safeParse({ ...visit, appointmentType: 'Not A Code' }).success, false);
    assert.equal(componentSchema.safeParse({ ...visit, timesShown: 0 }).success, false);
    assert.equal(componentSchema.safeParse({ ...visit, prefill: 'name' }).success, false, 'nothing to fill in from an account');
  });

  test('appointments are asked on a page, not in a repeating group or as a follow-up', () => {
    const inGroup = formWith({ type: 'repeatingGroup', id: 'visits', label: 'Visits', itemName: 'visit', components: [visit] });
    assert.match(messages(lintForm(inGroup)).join('\n'), /pages\[2\]\.components\[0\]\.components\[0\]/);
    const revealed = formWith({
      type: 'radios',
      id: 'book',
      label: 'Book now?',
      options: [
        { value: 'yes', text: 'Yes', reveals: [visit] },
        { value: 'no', text: 'No' },
      ],
    });
    assert.ok(messages(lintForm(revealed)).some((message) => message.startsWith('error pages[2].components[0].options[0].reveals[0]')));
  });

  test('a sound form has no findings, with or without the appointment types to check against', () => {
    assert.deepEqual(messages(lintForm(formWith())), []);
    assert.deepEqual(messages(lintForm(formWith(), { bookings: catalogue })), []);
  });

  test('with nothing taking bookings, a form with an appointment question cannot be published', () => {
    assert.deepEqual(messages(lintForm(formWith(), { bookings: null })), [
      'error pages[2].components[0].type: Appointment questions need appointment booking, which is not available to forms',
    ]);
  });

  test('the booking needs a name and an email address from the form', () => {
    const findings = messages(lintForm(formWith(visit, [{ type: 'text', id: 'nickname', label: 'What shall we call you?' }])));
    assert.deepEqual(findings, [
      'error pages[2].components[0]: A booking needs the resident’s name and email address: add a name question and an email question to the form, or name them in contact',
    ]);
    const named = formWith({ ...visit, contact: { name: 'nickname', email: 'work' } }, [
      { type: 'text', id: 'nickname', label: 'What shall we call you?' },
      { type: 'email', id: 'work', label: 'Work email', optional: true },
    ]);
    assert.deepEqual(messages(lintForm(named)), ['warning pages[2].components[0]: The booking needs the email from "work", which may be left unanswered']);
    const wrong = formWith({ ...visit, contact: { name: 'missing', email: 'applicant' } });
    assert.deepEqual(messages(lintForm(wrong)), [
      'error pages[2].components[0].contact.name: Refers to unknown question "missing"',
      'error pages[2].components[0].contact.email: The email must come from an email question',
    ]);
  });

  test('contact details come from the questions named, else the first of each kind', () => {
    const definition = parse(formWith());
    const question = definition.pages[2]?.components[0] as AppointmentQuestion;
    assert.deepEqual(bookingContactIds(definition, question), { name: 'applicant', email: 'email', phone: 'phone' });
    assert.deepEqual(bookingContactIds(definition, { ...question, contact: { phone: 'other' } }), { name: 'applicant', email: 'email', phone: 'other' });
  });

  test('appointment types, locations and the type’s own questions are checked against what takes bookings', () => {
    const lint = (appointment: Record<string, unknown>, contact?: ComponentInput[]) =>
      messages(lintForm(formWith(appointment, contact), { bookings: catalogue }));
    assert.deepEqual(lint({ ...visit, appointmentType: 'haircut' }), ['error pages[2].components[0].appointmentType: Unknown appointment type "haircut"']);
    assert.deepEqual(lint({ ...visit, location: 'moon' }), [
      'error pages[2].components[0].location: Advice is not offered at "moon": use one of office, phone',
    ]);
    const { location: _location, ...anywhere } = visit;
    assert.deepEqual(lint(anywhere), ['error pages[2].components[0].location: Advice is offered at more than one place: name one of office, phone']);
    assert.deepEqual(lint({ ...visit, appointmentType: 'members' }), [
      'error pages[2].components[0].appointmentType: Members can only be booked by residents who sign in, which a form cannot insist on',
    ]);
    assert.deepEqual(lint({ ...visit, answers: { topic: 'nowhere', shoeSize: 'applicant' } }), [
      'error pages[2].components[0].answers.topic: Refers to unknown question "nowhere"',
      'error pages[2].components[0].answers.shoeSize: Advice does not ask a question "shoeSize"',
      'error pages[2].components[0]: Advice asks “What is it about?”: add a question with the id "topic", or name the one that answers it in answers',
    ]);
    const choices = [
      ...defaultContact(),
      {
        type: 'radios',
        id: 'about',
        label: 'What about?',
        optional: true,
        options: [
          { value: 'bills', text: 'Bills' },
          { value: 'pets', text: 'Pets' },
        ],
      },
    ] as ComponentInput[];
    assert.deepEqual(lint({ ...visit, answers: { kind: 'about' } }, choices), [
      'error pages[2].components[0]: “Kind of advice” accepts only bills, arrears; "about" also offers pets',
    ]);
    assert.deepEqual(lint({ ...visit, answers: { topic: 'about' } }, choices), [
      'warning pages[2].components[0]: Advice needs an answer to “What is it about?”, and "about" may be left unanswered',
    ]);
  });

  test('a time chosen is read as a new answer, the time already held keeps its hold, and none chosen is an error', async () => {
    const question = componentSchema.parse(visit) as AppointmentQuestion;
    const ctx = (stored: Record<string, unknown>) => ({ evaluation: { answers: {}, profile: {}, today: '2026-12-01' }, geo: {} as never, stored });
    const start = '2026-12-08T09:30:00.000Z';
    const held = {
      appointmentType: 'advice',
      location: 'office',
      start,
      when: 'Tuesday 8 December 2026 at 9:30am',
      where: 'The office',
      holdId: 'h1',
      key: 'secret',
    };
    assert.deepEqual((await readPage([question], { visit: start }, ctx({}))).answers.visit, { appointmentType: 'advice', location: 'office', start });
    assert.deepEqual((await readPage([question], { visit: start }, ctx({ visit: held }))).answers.visit, held);
    const other = '2026-12-08T10:00:00.000Z';
    assert.deepEqual((await readPage([question], { visit: other }, ctx({ visit: held }))).answers.visit, {
      appointmentType: 'advice',
      location: 'office',
      start: other,
    });
    for (const posted of ['', 'next tuesday']) {
      const result = await readPage([question], { visit: posted }, ctx({}));
      assert.deepEqual(result.errors, [{ name: 'visit', href: '#visit', text: 'Select a time' }]);
    }
    assert.deepEqual((await readPage([{ ...question, optional: true }], {}, ctx({}))).answers, { visit: undefined });
    assert.deepEqual(answersToRaw([question], { visit: held }), { visit: start }, 'the page shows the time, never the hold');
  });

  test('check answers reads the time and place, and the booking reference once booked', () => {
    const question = componentSchema.parse(visit) as AppointmentQuestion;
    const held = {
      appointmentType: 'advice',
      location: 'office',
      start: '2026-12-08T09:30:00.000Z',
      when: 'Tuesday 8 December 2026 at 9:30am',
      where: 'The office',
    };
    assert.deepEqual(answerLines(question, { ...held, holdId: 'h1', key: 'secret' }), ['Tuesday 8 December 2026 at 9:30am, The office']);
    assert.deepEqual(answerLines(question, { ...held, reference: 'AB12-CD34' }), [
      'Tuesday 8 December 2026 at 9:30am, The office',
      'Booking reference AB12-CD34',
    ]);
    assert.deepEqual(bookedAppointments(parse(formWith()), { visit: { ...held, reference: 'AB12-CD34' } }), [
      { label: 'Choose a time', reference: 'AB12-CD34', when: held.when, where: held.where },
    ]);
  });
});
