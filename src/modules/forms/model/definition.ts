import { z } from 'zod';
import { componentSchema, contentComponentSchema, idSchema } from './components.js';
import { expressionSchema, operandSchema } from './expressions.js';

export const CURRENT_SCHEMA_VERSION = 2;

/** Where a route leads: a page id, "check-answers", or an external exit such as a "call now" page elsewhere. */
export const routeTargetSchema = z.union([z.string().min(1), z.strictObject({ exit: z.url({ protocol: /^https?$/ }) })]);

export const routeSchema = z.strictObject({
  when: expressionSchema.optional(),
  goTo: routeTargetSchema,
});

const slugSchema = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'Use lower case letters, digits and single hyphens');

export const pageSchema = z.strictObject({
  id: idSchema,
  slug: slugSchema,
  title: z.string().trim().min(1),
  /** The section the page's answers are listed under on the check answers page. */
  section: idSchema.optional(),
  components: z.array(componentSchema),
  /**
   * Tried in order; the first whose `when` holds is taken. A page without routes continues to the
   * next page, and the last page to check answers.
   */
  routes: z.array(routeSchema).optional(),
});

export const sectionSchema = z.strictObject({ id: idSchema, title: z.string().trim().min(1) });

/** A value worked out from answers: the first case whose `when` holds (or has none) gives it. */
export const computedValueSchema = z.strictObject({
  id: idSchema,
  cases: z.array(z.strictObject({ when: expressionSchema.optional(), value: operandSchema })).min(1),
});

/** A named place each submission is delivered to; the delivery step defines each type's settings. */
export const deliverySchema = z.strictObject({
  name: idSchema,
  type: z.enum(['webhook', 'email', 'case']),
  settings: z.record(z.string(), z.unknown()).default({}),
});

export const formDefinitionSchema = z.strictObject({
  schemaVersion: z.literal(CURRENT_SCHEMA_VERSION),
  id: idSchema,
  slug: slugSchema,
  title: z.string().trim().min(1),
  startPage: z.strictObject({ components: z.array(contentComponentSchema) }).optional(),
  sections: z.array(sectionSchema).default([]),
  pages: z.array(pageSchema).min(1),
  computed: z.array(computedValueSchema).default([]),
  deliveries: z.array(deliverySchema).default([]),
});

export type FormDefinition = z.infer<typeof formDefinitionSchema>;
export type FormDefinitionInput = z.input<typeof formDefinitionSchema>;
export type Page = z.infer<typeof pageSchema>;
export type Route = z.infer<typeof routeSchema>;
export type RouteTarget = z.infer<typeof routeTargetSchema>;
export type ComputedValue = z.infer<typeof computedValueSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Version 1 pages named their one next page in `next`; version 2 has ordered, conditional `routes`. */
function upgradeFromVersion1(definition: Record<string, unknown>): Record<string, unknown> {
  const pages = Array.isArray(definition.pages) ? definition.pages : [];
  return {
    ...definition,
    schemaVersion: 2,
    pages: pages.map((page: unknown) => {
      if (!isRecord(page) || !('next' in page)) return page;
      const { next, ...rest } = page;
      return typeof next === 'string' ? { ...rest, routes: [{ goTo: next }] } : page;
    }),
  };
}

const upgrades: Record<number, (definition: Record<string, unknown>) => Record<string, unknown>> = { 1: upgradeFromVersion1 };

/**
 * Brings a definition written for an older schema version up to the current one, step by step. A
 * definition without a version is taken as version 1. Anything it cannot upgrade is returned as it
 * is, for the schema to report.
 */
export function upgradeDefinition(raw: unknown): unknown {
  if (!isRecord(raw)) return raw;
  let definition: Record<string, unknown> = raw.schemaVersion === undefined ? { ...raw, schemaVersion: 1 } : raw;
  for (;;) {
    const version = definition.schemaVersion;
    const upgrade = typeof version === 'number' ? upgrades[version] : undefined;
    if (upgrade === undefined) return definition;
    definition = upgrade(definition);
  }
}

/** Upgrades, then checks against the schema. */
export function parseFormDefinition(raw: unknown): ReturnType<typeof formDefinitionSchema.safeParse> {
  return formDefinitionSchema.safeParse(upgradeDefinition(raw));
}

/** The definition schema as JSON Schema, for editors and the published `schema.json`. */
export function formDefinitionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(formDefinitionSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
