import { z } from 'zod';
import { dateOffsetSchema, expressionSchema, type ValueType } from './expressions.js';

/** One schema per component type; question types also own their validation (see validation.ts). */

export const idSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'Use letters, digits and underscores, starting with a letter');

const text = z.string().trim().min(1);

/* ---------- content ---------- */

const contentBase = { id: idSchema.optional(), showIf: expressionSchema.optional() };

export const headingSchema = z.strictObject({ type: z.literal('heading'), ...contentBase, text, size: z.enum(['l', 'm', 's']).default('m') });
export const paragraphSchema = z.strictObject({ type: z.literal('paragraph'), ...contentBase, text });
export const insetSchema = z.strictObject({ type: z.literal('inset'), ...contentBase, text });
export const warningSchema = z.strictObject({ type: z.literal('warning'), ...contentBase, text });
export const detailsSchema = z.strictObject({ type: z.literal('details'), ...contentBase, summary: text, text });
export const listSchema = z.strictObject({ type: z.literal('list'), ...contentBase, items: z.array(text).min(1), numbered: z.boolean().default(false) });

const contentSchemas = [headingSchema, paragraphSchema, insetSchema, warningSchema, detailsSchema, listSchema] as const;
export const contentComponentSchema = z.discriminatedUnion('type', [...contentSchemas]);

/* ---------- questions ---------- */

const questionBase = {
  id: idSchema,
  label: text,
  hint: z.string().optional(),
  /** How error messages name the answer, e.g. "your date of birth"; defaults to the label. */
  shortLabel: z.string().optional(),
  /** Replaces the standard "Enter …" or "Select …" message when nothing is given. */
  requiredMessage: z.string().optional(),
  optional: z.boolean().default(false),
  requiredIf: expressionSchema.optional(),
  showIf: expressionSchema.optional(),
  /** Filled in from the signed-in resident's profile when the form is started. */
  prefill: z.enum(['name', 'email', 'phone', 'address']).optional(),
};

const { prefill: _prefill, ...questionBaseWithoutPrefill } = questionBase;

const positive = z.number().int().positive();

export const textSchema = z.strictObject({
  type: z.literal('text'),
  ...questionBase,
  minLength: positive.optional(),
  maxLength: positive.default(500),
  autocomplete: z.string().optional(),
});

export const textareaSchema = z.strictObject({
  type: z.literal('textarea'),
  ...questionBase,
  /** Shown to residents as a character count. */
  maxLength: positive.default(2000),
  rows: positive.default(5),
});

export const numberSchema = z
  .strictObject({
    type: z.literal('number'),
    ...questionBase,
    whole: z.boolean().default(true),
    min: z.number().optional(),
    max: z.number().optional(),
    prefix: z.string().optional(),
    suffix: z.string().optional(),
  })
  .refine((question) => question.min === undefined || question.max === undefined || question.min <= question.max, {
    message: 'min must not be more than max',
    path: ['min'],
  });

export const emailSchema = z.strictObject({ type: z.literal('email'), ...questionBase });
export const ukPhoneSchema = z.strictObject({ type: z.literal('ukPhone'), ...questionBase, mobileOnly: z.boolean().default(false) });
export const postcodeSchema = z.strictObject({ type: z.literal('postcode'), ...questionBase });

/** A bound for a date: an absolute date, or today moved by an offset. */
export const dateBoundSchema = z.union([z.iso.date(), z.strictObject({ today: dateOffsetSchema })]);
export type DateBound = z.infer<typeof dateBoundSchema>;

export const dateSchema = z.strictObject({
  type: z.literal('date'),
  ...questionBase,
  /** past and future exclude today; the OrToday forms include it. */
  when: z.enum(['any', 'past', 'pastOrToday', 'future', 'futureOrToday']).default('any'),
  earliest: dateBoundSchema.optional(),
  latest: dateBoundSchema.optional(),
});

export const timeSchema = z.strictObject({ type: z.literal('time'), ...questionBase });

export const optionSchema = z.strictObject({
  value: z.string().min(1),
  text,
  hint: z.string().optional(),
  /** Hides the option unless this holds, to filter the choices by earlier answers. */
  showIf: expressionSchema.optional(),
});

export const selectSchema = z.strictObject({ type: z.literal('select'), ...questionBase, options: z.array(optionSchema).min(1) });
export const yesNoSchema = z.strictObject({ type: z.literal('yesNo'), ...questionBase, inline: z.boolean().default(true) });

export const nameSchema = z.strictObject({
  type: z.literal('name'),
  ...questionBase,
  firstNameLabel: text.default('First name'),
  lastNameLabel: text.default('Last name'),
});

export const addressSchema = z.strictObject({
  type: z.literal('address'),
  ...questionBase,
  /** Look the address up in the gazetteer by postcode, with a manual fallback. */
  lookup: z.boolean().default(true),
  /** Only addresses inside the council's area. */
  insideBoundary: z.boolean().default(false),
});

export const locationSchema = z.strictObject({
  type: z.literal('location'),
  ...questionBase,
  /** Ways a resident may give the location; the map only enhances, so one of the others is always offered. */
  methods: z
    .array(z.enum(['map', 'postcode', 'street', 'description']))
    .min(1)
    .default(['map', 'postcode', 'street', 'description'])
    .refine((methods) => methods.some((method) => method !== 'map'), 'Offer a way to give the location without a map'),
});

export const fileUploadSchema = z
  .strictObject({
    type: z.literal('fileUpload'),
    ...questionBase,
    /** Media types accepted, checked against the file's content, not its name. */
    accept: z.array(z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, 'Use a media type like image/jpeg')).min(1),
    maxBytes: positive.default(10 * 1024 * 1024),
    minFiles: z.number().int().nonnegative().default(1),
    maxFiles: positive.default(1),
  })
  .refine((question) => question.minFiles <= question.maxFiles, { message: 'minFiles must not be more than maxFiles', path: ['minFiles'] });

export const declarationSchema = z.strictObject({
  type: z.literal('declaration'),
  ...questionBase,
  /** The statement the resident confirms, shown above the checkbox. */
  statement: text,
});

const simpleQuestionSchemas = [
  textSchema,
  textareaSchema,
  numberSchema,
  emailSchema,
  ukPhoneSchema,
  postcodeSchema,
  dateSchema,
  timeSchema,
  selectSchema,
  yesNoSchema,
  nameSchema,
  addressSchema,
  locationSchema,
  fileUploadSchema,
  declarationSchema,
] as const;

/** Questions that can be revealed by a choice: anything but choices with their own reveals and repeating groups. */
export const simpleQuestionSchema = z.discriminatedUnion('type', [...simpleQuestionSchemas]);

export const choiceOptionSchema = optionSchema.extend({
  /** Follow-up questions shown when this option is chosen; their answers sit beside the others, by id. */
  reveals: z.array(simpleQuestionSchema).optional(),
});

export const radiosSchema = z.strictObject({
  type: z.literal('radios'),
  ...questionBase,
  options: z.array(choiceOptionSchema).min(2),
  inline: z.boolean().default(false),
});

export const checkboxesSchema = z
  .strictObject({
    type: z.literal('checkboxes'),
    ...questionBase,
    options: z.array(choiceOptionSchema).min(1),
    /** An exclusive "none of these" choice, shown after a divider; it cannot be chosen with others. */
    none: z.strictObject({ value: z.string().min(1), text }).optional(),
  })
  .refine((question) => !question.none || question.options.every((option) => option.value !== question.none?.value), {
    message: 'The none option must have its own value',
    path: ['none', 'value'],
  });

const groupableQuestionSchemas = [...simpleQuestionSchemas, radiosSchema, checkboxesSchema] as const;
export const groupableQuestionSchema = z.discriminatedUnion('type', [...groupableQuestionSchemas]);

export const repeatingGroupSchema = z
  .strictObject({
    type: z.literal('repeatingGroup'),
    ...questionBase,
    /** What one item is called, e.g. "child": used in "Add another child" and "Remove child 2". */
    itemName: text,
    /** More than one item, e.g. "children", for "Add at least 2 children"; the item's name with an "s" when not given. */
    itemsName: text.optional(),
    min: z.number().int().nonnegative().default(1),
    max: positive.default(10),
    components: z.array(z.discriminatedUnion('type', [...contentSchemas, ...groupableQuestionSchemas])).min(1),
  })
  .refine((group) => group.min <= group.max, { message: 'min must not be more than max', path: ['min'] });

const code = z.string().regex(/^[a-z0-9-]+$/, 'Use the code: lower case letters, digits and hyphens');

/**
 * An appointment booked as part of the form: the resident picks one of the next free times, which
 * is held while they finish, and the booking is made when the form is sent. The appointments
 * capability supplies the times (see bookings.ts); only a page's own questions may be bookings.
 */
export const appointmentSchema = z.strictObject({
  type: z.literal('appointment'),
  // Every question field but prefill: a time cannot come from a profile. requiredMessage replaces "Select a time".
  ...questionBaseWithoutPrefill,
  /** The appointment type's code, as in the council's appointment types. */
  appointmentType: code,
  /** The location's code; needed when the type is offered at more than one. */
  location: code.optional(),
  /** How many of the next free times are offered. */
  timesShown: z.number().int().min(1).max(60).default(20),
  /** The questions giving the booking's contact details; by default the form's first name, email and UK phone questions. */
  contact: z.strictObject({ name: idSchema.optional(), email: idSchema.optional(), phone: idSchema.optional() }).optional(),
  /** The appointment type's own questions answered by other questions of the form, by id; a type question is otherwise answered by the form question of the same id. */
  answers: z.record(idSchema, idSchema).optional(),
});

export const questionComponentSchema = z.discriminatedUnion('type', [...groupableQuestionSchemas, repeatingGroupSchema, appointmentSchema]);
export const componentSchema = z.discriminatedUnion('type', [...contentSchemas, ...groupableQuestionSchemas, repeatingGroupSchema, appointmentSchema]);

export type ContentComponent = z.infer<typeof contentComponentSchema>;
export type SimpleQuestion = z.infer<typeof simpleQuestionSchema>;
export type GroupableQuestion = z.infer<typeof groupableQuestionSchema>;
export type QuestionComponent = z.infer<typeof questionComponentSchema>;
export type Component = z.infer<typeof componentSchema>;
export type RepeatingGroup = z.infer<typeof repeatingGroupSchema>;
export type AppointmentQuestion = z.infer<typeof appointmentSchema>;
export type ChoiceOption = z.infer<typeof choiceOptionSchema>;

const contentTypes: ReadonlySet<string> = new Set(contentSchemas.map((schema) => schema.shape.type.value));

export function isQuestion(component: Component): component is QuestionComponent {
  return !contentTypes.has(component.type);
}

/* ---------- answers ---------- */

export const nameAnswerSchema = z.strictObject({ firstName: z.string(), lastName: z.string() });
export const addressAnswerSchema = z.strictObject({
  line1: z.string().min(1),
  line2: z.string().optional(),
  town: z.string().min(1),
  county: z.string().optional(),
  postcode: z.string().min(1),
  uprn: z.string().optional(),
});
export const locationAnswerSchema = z.strictObject({
  /** Missing only when the resident could describe the place but not point to it. */
  lat: z.number().min(-90).max(90).optional(),
  lng: z.number().min(-180).max(180).optional(),
  /** What the resident gave, as they would recognise it: a postcode, a street or a nearby address. */
  label: z.string().optional(),
  uprn: z.string().optional(),
  usrn: z.string().optional(),
  description: z.string().optional(),
  givenBy: z.enum(['map', 'postcode', 'street', 'description']),
});
export const fileAnswerSchema = z.strictObject({
  fileId: z.string().min(1),
  filename: z.string().min(1),
  contentType: z.string(),
  bytes: z.number().int().nonnegative(),
});

export type NameAnswer = z.infer<typeof nameAnswerSchema>;
export type AddressAnswer = z.infer<typeof addressAnswerSchema>;
export type LocationAnswer = z.infer<typeof locationAnswerSchema>;
export type FileAnswer = z.infer<typeof fileAnswerSchema>;
/** A repeating group's answer: one record per item, by the nested questions' ids. */
export type RepeatingGroupAnswer = Record<string, unknown>[];

const fieldTypes: Record<string, Record<string, ValueType>> = {
  name: { firstName: 'string', lastName: 'string' },
  address: { line1: 'string', line2: 'string', town: 'string', county: 'string', postcode: 'string', uprn: 'string' },
  location: { lat: 'number', lng: 'number', label: 'string', uprn: 'string', usrn: 'string', description: 'string', givenBy: 'string' },
  appointment: { appointmentType: 'string', location: 'string', start: 'string', when: 'string', where: 'string', reference: 'string' },
};

/** The type of a question's answer, or of one of its fields (`postcode` of an address); undefined for a field it does not have. */
export function answerType(question: QuestionComponent, field?: string): ValueType | undefined {
  const fields = fieldTypes[question.type];
  if (field !== undefined) return fields?.[field];
  switch (question.type) {
    case 'number':
      return 'number';
    case 'date':
      return 'date';
    case 'yesNo':
    case 'declaration':
      return 'boolean';
    case 'checkboxes':
    case 'fileUpload':
    case 'repeatingGroup':
      return 'list';
    case 'name':
    case 'address':
    case 'location':
    case 'appointment':
      return 'object';
    default:
      return 'string';
  }
}
