import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkConfigFolder, formatPath, refuseProblems } from '#platform/council/config-folder';
import { parseCalendarDate } from '#platform/council/dates';
import { checkboxesSchema, radiosSchema, selectSchema, textareaSchema, textSchema, yesNoSchema } from '#modules/forms/index';

/** Bookings are held on a grid of this many minutes: lengths, buffers and opening times are multiples of it. */
export const GRANULE_MINUTES = 5;
/** No booking or block lasts longer than a day, so a period's bookings are found by start time alone. */
export const LONGEST_BOOKING_MS = 24 * 60 * 60_000;

const code = z.string('must be a code').regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and hyphens');
const clockTime = z.string('must be a time like 09:00').regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time on the 24-hour clock like 09:00 or 17:30');
const calendarDate = z
  .string('must be a date like 2026-12-24')
  .refine((value) => parseCalendarDate(value) !== undefined, { error: (issue) => `${String(issue.input)} is not a real date in the form YYYY-MM-DD` });
const onGrid = (what: string) =>
  z
    .number(`${what} must be a number of minutes`)
    .int(`${what} must be a whole number of minutes`)
    .min(0, `${what} cannot be negative`)
    .refine((n) => n % GRANULE_MINUTES === 0, `${what} must be a multiple of ${GRANULE_MINUTES} minutes`);

export function clockMinutes(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

const HoursSchema = z
  .strictObject({ from: clockTime, to: clockTime })
  .refine((h) => h.from < h.to, { message: 'to must be later than from', path: ['to'] })
  .refine((h) => clockMinutes(h.from) % GRANULE_MINUTES === 0 && clockMinutes(h.to) % GRANULE_MINUTES === 0, {
    message: `times must be on a ${GRANULE_MINUTES}-minute boundary`,
  });
export type Hours = z.infer<typeof HoursSchema>;

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A weekly pattern of opening hours with breaks, shared by the resources that keep it. */
export const PolicySchema = z.strictObject({
  code,
  name: z.string().min(2),
  week: z.partialRecord(z.enum(WEEKDAYS, 'must be a day of the week like "monday"'), z.array(HoursSchema)),
  breaks: z.array(HoursSchema).default([]),
});
export type Policy = z.infer<typeof PolicySchema>;

const DatedHoursSchema = z.strictObject({ date: calendarDate, hours: z.array(HoursSchema), reason: z.string().optional() });
const ClosureSchema = z
  .strictObject({ from: calendarDate, to: calendarDate, reason: z.string().min(2) })
  .refine((c) => c.from <= c.to, { message: 'to must be on or after from', path: ['to'] });

export const LocationSchema = z.strictObject({
  code,
  name: z.string().min(2),
  /** In person at an address, or a phone call. */
  kind: z.enum(['in-person', 'phone']),
  address: z.string().optional(),
  directions: z.string().optional(),
  /** Open on English bank holidays (closed unless said). */
  openOnBankHolidays: z.boolean().default(false),
  closures: z.array(ClosureSchema).default([]),
});
export type Location = z.infer<typeof LocationSchema>;

export const RESOURCE_KINDS = ['staff', 'room', 'vehicle', 'site'] as const;
export const ResourceSchema = z.strictObject({
  code,
  name: z.string().min(2),
  kind: z.enum(RESOURCE_KINDS),
  location: code,
  /** How many bookings it can take at once: 1 for a person or a room, more for a site. */
  capacity: z.number().int().min(1).max(500).default(1),
  policy: code,
  /** Days that differ from the policy: other hours, or none (an empty list). */
  overrides: z.array(DatedHoursSchema).default([]),
});
export type Resource = z.infer<typeof ResourceSchema>;

export const AppointmentQuestionSchema = z.discriminatedUnion('type', [textSchema, textareaSchema, radiosSchema, checkboxesSchema, yesNoSchema, selectSchema]);
export type AppointmentQuestion = z.infer<typeof AppointmentQuestionSchema>;

export const AppointmentTypeSchema = z
  .strictObject({
    code,
    name: z.string().min(3),
    /** What the resident is told on the first page. */
    description: z.string().min(10),
    /** What to bring or expect, shown on the confirmation and in the email. */
    whatToBring: z.array(z.string()).default([]),
    cost: z.string().optional(),
    lengthMinutes: onGrid('lengthMinutes')
      .refine((n) => n > 0, 'lengthMinutes must be more than 0')
      .refine((n) => n <= 480, 'lengthMinutes must be 480 (8 hours) or less'),
    bufferBeforeMinutes: onGrid('bufferBeforeMinutes')
      .refine((n) => n <= 120, 'bufferBeforeMinutes must be 120 or less')
      .default(0),
    bufferAfterMinutes: onGrid('bufferAfterMinutes')
      .refine((n) => n <= 120, 'bufferAfterMinutes must be 120 or less')
      .default(0),
    /** Start times are this far apart (the length when not given). */
    slotEveryMinutes: onGrid('slotEveryMinutes').optional(),
    horizonDays: z.number().int().min(1).max(366),
    minimumNoticeMinutes: z.number().int().min(0),
    /** A booking can be changed or cancelled by the resident until this long before it starts. */
    changeUntilMinutes: z.number().int().min(0),
    cancelUntilMinutes: z.number().int().min(0),
    holdMinutes: z.number().int().min(1).max(60),
    /** Bookings in the same slot: 1 for a meeting, more for a site slot (cars at a recycling centre). */
    capacityPerSlot: z.number().int().min(1).max(500).default(1),
    /** Each entry is one resource the appointment needs, chosen from the codes listed. */
    needs: z.array(z.strictObject({ label: z.string().min(2), oneOf: z.array(code).min(1) })).min(1),
    locations: z.array(code).min(1),
    questions: z.array(AppointmentQuestionSchema).max(10).default([]),
    signInRequired: z.boolean().default(false),
    /** Reminders sent this many hours before. */
    remindersHoursBefore: z
      .array(
        z
          .number()
          .int()
          .min(1)
          .max(24 * 14),
      )
      .default([24]),
    /** Staff can link a booking to a case of this type. */
    caseType: z.string().optional(),
  })
  .refine((t) => t.slotEveryMinutes === undefined || t.slotEveryMinutes > 0, { message: 'slotEveryMinutes must be more than 0', path: ['slotEveryMinutes'] });
export type AppointmentTypeDefinition = z.infer<typeof AppointmentTypeSchema>;

export interface AppointmentType extends AppointmentTypeDefinition {
  slotEvery: number;
}

/** Everything the council has configured for appointments. */
export interface AppointmentsConfig {
  locations: Map<string, Location>;
  policies: Map<string, Policy>;
  resources: Map<string, Resource>;
  types: Map<string, AppointmentType>;
  bankHolidays: ReadonlySet<string>;
}

export const APPOINTMENT_TYPES_FOLDER = 'appointment-types';
export const APPOINTMENTS_FOLDER = 'appointments';

function readList<T>(councilDir: string, file: string, schema: z.ZodType<T>, problems: string[]): T[] {
  const where = path.join(APPOINTMENTS_FOLDER, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path.join(councilDir, where), 'utf8'));
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
  const parsed = z.array(schema).safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) problems.push(`${where}: ${formatPath(issue.path)}: ${issue.message}`);
  return [];
}

function byCode<T extends { code: string }>(items: T[], where: string, problems: string[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    if (map.has(item.code)) problems.push(`${where}: "${item.code}" is listed twice`);
    map.set(item.code, item);
  }
  return map;
}

/** Every problem with the council's appointments configuration, one line each; none means it loads. */
export function appointmentProblems(councilDir: string, caseTypes: ReadonlySet<string>): string[] {
  return check(councilDir, caseTypes, new Set()).problems;
}

function check(councilDir: string, caseTypes: ReadonlySet<string>, bankHolidays: ReadonlySet<string>) {
  const problems: string[] = [];
  const locations = byCode(readList(councilDir, 'locations.json', LocationSchema, problems), 'appointments/locations.json', problems);
  const policies = byCode(readList(councilDir, 'policies.json', PolicySchema, problems), 'appointments/policies.json', problems);
  const resources = byCode(readList(councilDir, 'resources.json', ResourceSchema, problems), 'appointments/resources.json', problems);
  for (const resource of resources.values()) {
    if (!locations.has(resource.location)) problems.push(`appointments/resources.json: ${resource.code}: "${resource.location}" is not a location`);
    if (!policies.has(resource.policy)) problems.push(`appointments/resources.json: ${resource.code}: "${resource.policy}" is not a policy`);
  }
  const { definitions, problems: typeProblems } = checkConfigFolder(councilDir, APPOINTMENT_TYPES_FOLDER, AppointmentTypeSchema);
  problems.push(...typeProblems);
  const types = new Map<string, AppointmentType>();
  for (const definition of definitions) {
    const at = (message: string) => problems.push(`${APPOINTMENT_TYPES_FOLDER}/${definition.code}.json: ${message}`);
    for (const location of definition.locations) if (!locations.has(location)) at(`locations: "${location}" is not a location`);
    definition.needs.forEach((need, i) => {
      for (const resourceCode of need.oneOf) {
        const resource = resources.get(resourceCode);
        if (!resource) at(`needs[${i}].oneOf: "${resourceCode}" is not a resource`);
        else if (resource.capacity < definition.capacityPerSlot)
          at(`needs[${i}].oneOf: "${resourceCode}" takes ${resource.capacity} at once, fewer than capacityPerSlot (${definition.capacityPerSlot})`);
      }
    });
    for (const location of definition.locations) {
      const everyNeedThere = definition.needs.every((need) => need.oneOf.some((r) => resources.get(r)?.location === location));
      if (locations.has(location) && !everyNeedThere) at(`locations: "${location}" does not have a resource for every need`);
    }
    if (definition.caseType !== undefined && !caseTypes.has(definition.caseType)) at(`caseType: "${definition.caseType}" is not a case type`);
    types.set(definition.code, { ...definition, slotEvery: definition.slotEveryMinutes ?? definition.lengthMinutes });
  }
  return { problems, config: { locations, policies, resources, types, bankHolidays } satisfies AppointmentsConfig };
}

/** Loads and checks the appointments configuration; throws one Error listing every problem. */
export function loadAppointmentsConfig(councilDir: string, caseTypes: ReadonlySet<string>, bankHolidays: ReadonlySet<string>): AppointmentsConfig {
  const { problems, config } = check(councilDir, caseTypes, bankHolidays);
  refuseProblems(councilDir, APPOINTMENTS_FOLDER, 'appointment settings', problems);
  return config;
}

export const WEEKDAY_NAMES = WEEKDAYS;
