import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #0b0c0c');

export const CouncilProfileSchema = z.object({
  name: z.string().min(3),
  shortName: z.string().min(2),
  serviceName: z.string().min(3),
  area: z.string().min(2),
  logo: z.object({ text: z.string().min(2), svg: z.string().optional() }),
  colours: z.object({ brand: colour, brandText: colour, link: colour }),
  contact: z.object({ phone: z.string(), phoneHours: z.string(), email: z.string().email(), address: z.string() }),
  emergency: z.object({ outOfHours: z.string(), childInDanger: z.string() }),
  postcode: z.object({ area: z.string(), pattern: z.string() }),
  privacy: z.object({ controller: z.string(), dpoEmail: z.string().email(), icoRegistration: z.string() }),
  accessibility: z.object({ statementDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), contactEmail: z.string().email() }),
  accounts: z.object({ draftRetentionDays: z.number().int().positive(), deletedAccountKept: z.array(z.string()) }),
});

export type CouncilProfile = z.infer<typeof CouncilProfileSchema>;

export const TeamsSchema = z
  .array(z.object({ code: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and hyphens'), name: z.string().min(2) }))
  .min(1);

/** Demo users (only loaded when BOROUGH_DEMO is on; refused in production). */
export const DemoUsersSchema = z.object({
  residents: z.object({
    password: z.string().min(10),
    people: z.array(z.object({ email: z.string().email(), name: z.string().min(1), phone: z.string().optional() })).min(1),
  }),
  staff: z.object({
    emailDomain: z.string().min(3),
    password: z.string().min(10),
    totpSecret: z.string().regex(/^[A-Z2-7]{16,}$/, 'must be a base32 secret'),
    teamsByRole: z.record(z.string(), z.array(z.string())),
  }),
});

export type Team = z.infer<typeof TeamsSchema>[number];
export type DemoUsers = z.infer<typeof DemoUsersSchema>;

export interface Council {
  profile: CouncilProfile;
  dir: string;
  /** Inline SVG markup of the logo (decorative: the council name is beside it). */
  logoSvg: string | undefined;
  /** Stylesheet with the council's colours, served at /assets/council.css. */
  css: string;
  postcodePattern: RegExp;
  /** The council's teams (queues of work belong to them). */
  teams: Team[];
  /** Present when the council folder has demo-users.json. */
  demoUsers: DemoUsers | undefined;
}

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`${file} is not valid:\n${problems}`);
  }
  return parsed.data;
}

export function loadCouncil(dir: string): Council {
  const profile = readJson(path.join(dir, 'profile.json'), CouncilProfileSchema);
  const teams = readJson(path.join(dir, 'teams.json'), TeamsSchema);
  const demoFile = path.join(dir, 'demo-users.json');
  const demoUsers = existsSync(demoFile) ? readJson(demoFile, DemoUsersSchema) : undefined;
  const logoSvg = profile.logo.svg ? readFileSync(path.join(dir, profile.logo.svg), 'utf8').trim() : undefined;
  const { brand, brandText, link } = profile.colours;
  const css = [
    `.govuk-generic-header,.borough-header{background-color:${brand};border-bottom:10px solid ${brand}}`,
    `.govuk-generic-header__homepage-link,.govuk-generic-header__homepage-link:link,.govuk-generic-header__homepage-link:visited{color:${brandText}}`,
    `.govuk-generic-header__homepage-link:focus{color:#0b0c0c}`,
    `.borough-header__logo-svg{color:${brandText}}`,
    `.govuk-link:link,.govuk-footer__link:link{color:${link}}`,
    `.govuk-service-navigation{border-bottom-color:${brand}}`,
  ].join('\n');
  return { profile, dir, logoSvg, css, postcodePattern: new RegExp(profile.postcode.pattern, 'i'), teams, demoUsers };
}
