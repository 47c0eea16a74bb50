import { z } from 'zod';
import { isQuestion, type AppointmentQuestion, type Component, type QuestionComponent } from './components.js';
import type { FormDefinition } from './definition.js';

/**
 * The contract between forms and whatever takes bookings for them (the appointments capability,
 * which registers itself with `setBookingProvider`). Forms never learn how times are worked out:
 * they offer the times given, hold the one chosen and confirm it when the form is sent.
 */

export interface BookingPlace {
  code: string;
  name: string;
}

/** One of the appointment type's own questions, which the form must answer for the booking. */
export interface BookingTypeQuestion {
  id: string;
  label: string;
  /** Required whatever else is answered: the booking is refused without it. */
  required: boolean;
  /** The values a choice question accepts. */
  values?: string[];
}

export interface BookingDescription {
  name: string;
  locations: BookingPlace[];
  questions: BookingTypeQuestion[];
  /** Only signed-in residents may book this type, which a form cannot insist on. */
  signInRequired: boolean;
}

export interface BookingTime {
  start: Date;
  /** How the time reads, like "Tuesday 8 December 2026 at 9:30am". */
  text: string;
  hint?: string;
}

export interface BookingHold {
  id: string;
  /** The secret that finishes the booking: kept on the draft, never shown or put in an address. */
  key: string;
  when: string;
  where: string;
}

export interface BookingContact {
  name: string;
  email: string;
  phone?: string;
}

export interface BookingConfirmation {
  contact: BookingContact;
  /** The appointment type's own questions, by their ids, as the form's answers hold them. */
  answers: Record<string, unknown>;
  /** The signed-in resident the booking belongs to, if any. */
  residentId?: string | undefined;
}

export interface BookedAppointment {
  reference: string;
  when: string;
  where: string;
}

export interface BookingProvider {
  /** The appointment type, or undefined when there is no such type. */
  describe(appointmentType: string): BookingDescription | undefined;
  /** The next free times, earliest first. */
  times(appointmentType: string, location: string, opts: { limit: number }): Promise<BookingTime[]>;
  /** Keeps a time for a while; `taken` when someone else has it. */
  hold(appointmentType: string, location: string, start: Date): Promise<BookingHold | { taken: true }>;
  /** Makes the booking: the same hold confirmed twice is one booking. `expired` when the hold ran out. */
  confirm(hold: { id: string; key: string }, details: BookingConfirmation): Promise<BookedAppointment | { taken: true } | { expired: true }>;
  /** Lets a hold go early, when the provider can. */
  release?(hold: { id: string; key: string }): Promise<void>;
}

/** What the linter needs to check appointment questions against the council's appointment types. */
export type BookingCatalogue = Pick<BookingProvider, 'describe'>;

export const TIME_TAKEN = 'That time has just been taken. Choose another time.';

/* ---------- answers ---------- */

/**
 * An appointment answer. While the form is being filled in it holds the time chosen and, once held,
 * the hold (`holdId`, `key`); once the form is sent it holds the booking's `reference` instead.
 */
export const appointmentAnswerSchema = z.object({
  appointmentType: z.string(),
  location: z.string(),
  start: z.iso.datetime(),
  when: z.string().optional(),
  where: z.string().optional(),
  holdId: z.string().optional(),
  key: z.string().optional(),
  reference: z.string().optional(),
});
export type AppointmentAnswer = z.infer<typeof appointmentAnswerSchema>;

export function appointmentAnswer(value: unknown): AppointmentAnswer | undefined {
  const parsed = appointmentAnswerSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The answer as kept with a submission: what was booked, without the hold. */
export function bookedAnswer(answer: AppointmentAnswer, booked: BookedAppointment): AppointmentAnswer {
  return {
    appointmentType: answer.appointmentType,
    location: answer.location,
    start: answer.start,
    when: booked.when,
    where: booked.where,
    reference: booked.reference,
  };
}

/** The location an appointment question books at: its own, or the type's only one. */
export function bookingLocation(question: AppointmentQuestion, description: BookingDescription | undefined): string | undefined {
  if (question.location !== undefined) return question.location;
  return description?.locations.length === 1 ? description.locations[0]?.code : undefined;
}

/* ---------- where the definition holds them ---------- */

/** Questions outside repeating groups, with follow-ups of choices, in page order. */
function topLevelQuestions(definition: FormDefinition): QuestionComponent[] {
  const out: QuestionComponent[] = [];
  const visit = (components: readonly Component[]) => {
    for (const component of components) {
      if (!isQuestion(component)) continue;
      out.push(component);
      if (component.type === 'radios' || component.type === 'checkboxes') for (const option of component.options) visit(option.reveals ?? []);
    }
  };
  for (const page of definition.pages) visit(page.components);
  return out;
}

export function appointmentQuestions(definition: FormDefinition): { question: AppointmentQuestion; pageIndex: number; componentIndex: number }[] {
  return definition.pages.flatMap((page, pageIndex) =>
    page.components.flatMap((component, componentIndex) => (component.type === 'appointment' ? [{ question: component, pageIndex, componentIndex }] : [])),
  );
}

const CONTACT_TYPES = { name: ['name', 'text'], email: ['email'], phone: ['ukPhone', 'text'] } as const;
const CONTACT_KINDS = { name: 'a name or text question', email: 'an email question', phone: 'a ukPhone or text question' } as const;
type ContactField = keyof typeof CONTACT_TYPES;

/** The questions whose answers give a booking's contact details: those the question names, else the form's first of each kind. */
export function bookingContactIds(definition: FormDefinition, question: AppointmentQuestion): Partial<Record<ContactField, string>> {
  const questions = topLevelQuestions(definition);
  const first = (test: (q: QuestionComponent) => boolean) => questions.find(test)?.id;
  const name = question.contact?.name ?? first((q) => q.type === 'name') ?? first((q) => q.type === 'text' && q.prefill === 'name');
  const email = question.contact?.email ?? first((q) => q.type === 'email');
  const phone = question.contact?.phone ?? first((q) => q.type === 'ukPhone');
  return { ...(name ? { name } : {}), ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
}

/** The booked appointments a submission's answers hold, by question, for its confirmation page. */
export function bookedAppointments(definition: FormDefinition, answers: Readonly<Record<string, unknown>>): ({ label: string } & BookedAppointment)[] {
  return appointmentQuestions(definition).flatMap(({ question }) => {
    const answer = appointmentAnswer(answers[question.id]);
    return answer?.reference ? [{ label: question.label, reference: answer.reference, when: answer.when ?? '', where: answer.where ?? '' }] : [];
  });
}

/* ---------- checks ---------- */

export interface BookingFinding {
  severity: 'error' | 'warning';
  path: readonly PropertyKey[];
  message: string;
}

const mayBeUnanswered = (question: QuestionComponent): boolean => question.optional || question.requiredIf !== undefined || question.showIf !== undefined;

/**
 * Checks a definition's appointment questions. Contact details and the questions they name are
 * always checked; the types and locations only with a catalogue. `null` means nothing takes bookings,
 * so the form cannot be published; undefined (checking files offline) leaves those checks out.
 */
export function bookingFindings(definition: FormDefinition, catalogue: BookingCatalogue | null | undefined): BookingFinding[] {
  const out: BookingFinding[] = [];
  const questions = topLevelQuestions(definition);
  const byId = new Map(questions.map((question) => [question.id, question]));
  for (const { question, pageIndex, componentIndex } of appointmentQuestions(definition)) {
    const at = ['pages', pageIndex, 'components', componentIndex];
    const contact = bookingContactIds(definition, question);
    for (const field of ['name', 'email', 'phone'] as const) {
      const id = question.contact?.[field];
      if (id === undefined) continue;
      const named = byId.get(id);
      if (named === undefined) out.push({ severity: 'error', path: [...at, 'contact', field], message: `Refers to unknown question "${id}"` });
      else if (!(CONTACT_TYPES[field] as readonly string[]).includes(named.type))
        out.push({ severity: 'error', path: [...at, 'contact', field], message: `The ${field} must come from ${CONTACT_KINDS[field]}` });
    }
    if (contact.name === undefined || contact.email === undefined) {
      out.push({
        severity: 'error',
        path: at,
        message: 'A booking needs the resident’s name and email address: add a name question and an email question to the form, or name them in contact',
      });
    }
    for (const field of ['name', 'email'] as const) {
      const source = contact[field] === undefined ? undefined : byId.get(contact[field]);
      if (source !== undefined && mayBeUnanswered(source))
        out.push({ severity: 'warning', path: at, message: `The booking needs the ${field} from "${source.id}", which may be left unanswered` });
    }
    for (const [typeQuestion, formQuestion] of Object.entries(question.answers ?? {})) {
      if (!byId.has(formQuestion))
        out.push({ severity: 'error', path: [...at, 'answers', typeQuestion], message: `Refers to unknown question "${formQuestion}"` });
    }
    if (catalogue === undefined) continue;
    if (catalogue === null) {
      out.push({ severity: 'error', path: [...at, 'type'], message: 'Appointment questions need appointment booking, which is not available to forms' });
      continue;
    }
    const description = catalogue.describe(question.appointmentType);
    if (description === undefined) {
      out.push({ severity: 'error', path: [...at, 'appointmentType'], message: `Unknown appointment type "${question.appointmentType}"` });
      continue;
    }
    const places = description.locations.map((location) => location.code);
    if (question.location !== undefined && !places.includes(question.location))
      out.push({
        severity: 'error',
        path: [...at, 'location'],
        message: `${description.name} is not offered at "${question.location}": use one of ${places.join(', ')}`,
      });
    if (question.location === undefined && places.length > 1)
      out.push({
        severity: 'error',
        path: [...at, 'location'],
        message: `${description.name} is offered at more than one place: name one of ${places.join(', ')}`,
      });
    if (description.signInRequired)
      out.push({
        severity: 'error',
        path: [...at, 'appointmentType'],
        message: `${description.name} can only be booked by residents who sign in, which a form cannot insist on`,
      });
    const typeIds = new Set(description.questions.map((typeQuestion) => typeQuestion.id));
    for (const typeQuestion of Object.keys(question.answers ?? {})) {
      if (!typeIds.has(typeQuestion))
        out.push({ severity: 'error', path: [...at, 'answers', typeQuestion], message: `${description.name} does not ask a question "${typeQuestion}"` });
    }
    for (const typeQuestion of description.questions) {
      const sourceId = question.answers?.[typeQuestion.id] ?? typeQuestion.id;
      const source = byId.get(sourceId);
      if (source === undefined) {
        if (typeQuestion.required)
          out.push({
            severity: 'error',
            path: at,
            message: `${description.name} asks “${typeQuestion.label}”: add a question with the id "${typeQuestion.id}", or name the one that answers it in answers`,
          });
        continue;
      }
      if (typeQuestion.required && mayBeUnanswered(source))
        out.push({
          severity: 'warning',
          path: at,
          message: `${description.name} needs an answer to “${typeQuestion.label}”, and "${source.id}" may be left unanswered`,
        });
      if (typeQuestion.values !== undefined && (source.type === 'radios' || source.type === 'select' || source.type === 'checkboxes')) {
        const allowed = new Set(typeQuestion.values);
        const extra = source.options.map((option) => option.value).filter((value) => !allowed.has(value));
        if (extra.length > 0)
          out.push({
            severity: 'error',
            path: at,
            message: `“${typeQuestion.label}” accepts only ${typeQuestion.values.join(', ')}; "${source.id}" also offers ${extra.join(', ')}`,
          });
      }
    }
  }
  return out;
}
