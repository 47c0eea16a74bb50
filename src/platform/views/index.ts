import path from 'node:path';
import nunjucks from 'nunjucks';
import { projectRoot } from '#platform/config/index';

export const platformTemplates = path.join(projectRoot, 'src/platform/views/templates');

/** Template folders: the platform's, each capability's, then GOV.UK and MOJ Frontend's macros. */
export function templateFolders(moduleFolders: string[]): string[] {
  return [
    platformTemplates,
    ...moduleFolders,
    path.join(projectRoot, 'node_modules/govuk-frontend/dist'),
    path.join(projectRoot, 'node_modules/@ministryofjustice/frontend'),
  ];
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  // en-GB's 12-hour clock counts 0 to 11; GOV.UK style is 12:30pm, not 0:30pm.
  hourCycle: 'h12',
  timeZone: 'Europe/London',
});

/** GOV.UK style: "5 January 2026" and "5 January 2026 at 2:30pm". */
export function formatDate(value: Date | string | null | undefined): string {
  if (!value) return '';
  return dateFormat.format(new Date(value));
}
export function formatDateTime(value: Date | string | null | undefined): string {
  if (!value) return '';
  const parts = dateTimeFormat.formatToParts(new Date(value));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')} ${get('month')} ${get('year')} at ${get('hour')}:${get('minute')}${get('dayPeriod').toLowerCase().replace(/\s/g, '')}`;
}

export function configureNunjucks(env: nunjucks.Environment): void {
  env.addFilter('govukDate', formatDate);
  env.addFilter('govukDateTime', formatDateTime);
}

/** Turns field errors into the list the GOV.UK error summary takes, in the order the fields appear. */
/** Text someone wrote, as paragraphs of lines, for templates that show it without trusting its markup. */
export function paragraphs(value: string | null | undefined): string[][] {
  return (value ?? '')
    .split(/\n\s*\n/)
    .map((p) =>
      p
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean),
    )
    .filter((lines) => lines.length > 0);
}

export function errorSummary(fieldErrors: Record<string, string>): { text: string; href: string }[] {
  return Object.entries(fieldErrors).map(([field, text]) => ({ text, href: `#${field}` }));
}
