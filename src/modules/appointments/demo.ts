import { mulberry32 } from '#platform/geo/index';
import type { StaffMember } from '#modules/account/index';
import type { AppointmentQuestion } from './model/config.js';
import { SlotTaken, type AppointmentsService } from './service.js';

const FIRST_NAMES = ['Sam', 'Priya', 'Tom', 'Aisha', 'Gareth', 'Mei', 'Olu', 'Hannah', 'Dev', 'Nina', 'Rhys', 'Zainab'];
const LAST_NAMES = ['Taylor', 'Shah', 'Evans', 'Khan', 'Jones', 'Chen', 'Adeyemi', 'Walsh', 'Patel', 'Novak', 'Price', 'Hussain'];
/** The demo fills this many days ahead, so the staff calendar has something to show. */
const DAYS_AHEAD = 14;

/** An answer each kind of question accepts, so the demo's bookings pass the type's own checks. */
function demoAnswer(question: AppointmentQuestion, random: () => number): unknown {
  switch (question.type) {
    case 'radios':
    case 'select':
      return question.options[Math.floor(random() * question.options.length)]?.value;
    case 'checkboxes':
      return [question.options[0]?.value];
    case 'yesNo':
      return random() < 0.3 ? 'yes' : 'no';
    case 'text':
      return question.optional ? '' : 'KM21 ABC'.slice(0, question.maxLength);
    case 'textarea':
      return question.optional ? '' : 'Booked for the demo council.';
  }
}

/**
 * The demo council's upcoming appointments: about `count` bookings over the next two weeks, made by
 * the demo case officer as phone bookings for callers with no email address, so nobody is emailed.
 * Made once, on a database with no bookings yet.
 */
export async function seedDemoAppointments(
  service: AppointmentsService,
  officer: StaffMember | null | undefined,
  opts: { count: number; seed: number; now?: number },
): Promise<number> {
  if (!officer || opts.count <= 0) return 0;
  const existing = await service.repo.db.selectFrom('appointment_bookings').select('id').limit(1).executeTakeFirst();
  if (existing) return 0;
  const random = mulberry32(opts.seed);
  const now = opts.now ?? Date.now();
  const offered = [];
  for (const type of service.config.types.values())
    for (const location of type.locations) {
      const slots = await service.availability(type.code, location, { now, to: now + DAYS_AHEAD * 86_400_000, staff: true });
      offered.push(...slots.map((slot) => ({ type, location, start: slot.start })));
    }
  let made = 0;
  const share = Math.min(1, opts.count / Math.max(1, offered.length));
  for (const { type, location, start } of offered) {
    if (made >= opts.count || random() >= share) continue;
    const name = `${FIRST_NAMES[Math.floor(random() * FIRST_NAMES.length)]} ${LAST_NAMES[Math.floor(random() * LAST_NAMES.length)]}`;
    const details: Record<string, unknown> = { name, phone: `01632 960${String(Math.floor(random() * 1000)).padStart(3, '0')}`, remindBy: 'email' };
    for (const question of type.questions) details[question.id] = demoAnswer(question, random);
    try {
      await service.bookFor(officer, { type: type.code, location, start, details });
      made++;
    } catch (error) {
      // Another demo booking took the resources this slot needs.
      if (!(error instanceof SlotTaken)) throw error;
    }
  }
  return made;
}
