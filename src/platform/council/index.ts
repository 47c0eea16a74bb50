import { readFileSync } from 'node:fs';
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

export interface Council {
  profile: CouncilProfile;
  dir: string;
  /** Inline SVG markup of the logo (decorative: the council name is beside it). */
  logoSvg: string | undefined;
  /** Stylesheet with the council's colours, served at /assets/council.css. */
  css: string;
  postcodePattern: RegExp;
}

export function loadCouncil(dir: string): Council {
  const file = path.join(dir, 'profile.json');
  const parsed = CouncilProfileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`The council profile ${file} is not valid:\n${problems}`);
  }
  const profile = parsed.data;
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
  return { profile, dir, logoSvg, css, postcodePattern: new RegExp(profile.postcode.pattern, 'i') };
}
