// Why two records were (or were not) linked: each field's agreement level in words and the weight it
// added, so a page can draw the contributions as a waterfall chart and list them as a table.
import { COMPARISONS } from './comparisons.js';
import { compile, log2, type ComparisonParameters, type LevelParameters, probabilityFromWeight, termFrequencyAdjustment, type LinkageModel } from './model.js';
import type { StandardRecord } from './standardise.js';

export interface FieldContribution {
  field: string;
  fieldLabel: string;
  level: string;
  /** For example "Date of birth: exact match". */
  description: string;
  m: number;
  u: number;
  /** log2(m / u), plus any name-frequency adjustment. */
  weight: number;
  /** The part of `weight` due to how common the exact name is. */
  frequencyAdjustment: number;
  bayesFactor: number;
  /** The standardised values compared, for showing side by side ('' when missing). */
  leftValue: string;
  rightValue: string;
}

/** What each comparison looked at, in a form staff can read. */
function shown(field: string, r: StandardRecord): string {
  switch (field) {
    case 'forename':
      return r.forenameTokens.join(' ');
    case 'surname':
      return [r.surnameParts.join(' '), ...r.previousSurnames.slice(0, 1).map((p) => `(was ${p})`)].filter(Boolean).join(' ');
    case 'dob':
      return r.dob.text;
    case 'postcode':
      return r.postcode.full;
    case 'address':
      return [r.streetNumber, r.addressLine].filter(Boolean).join(' ');
    case 'town':
      return r.town;
    case 'identifiers':
      return r.identifierKeys.map((k, i) => `${k} ${r.identifierValues[i] ?? ''}`).join(', ');
    case 'gender':
      return r.gender;
    default:
      return '';
  }
}

export interface Explanation {
  leftId: string;
  rightId: string;
  prior: number;
  priorWeight: number;
  fields: FieldContribution[];
  /** priorWeight plus every field's weight. */
  totalWeight: number;
  probability: number;
}

export function explainPair(model: LinkageModel, a: StandardRecord, b: StandardRecord): Explanation {
  const cm = compile(model);
  const fields: FieldContribution[] = [];
  let total = cm.priorWeight;
  COMPARISONS.forEach((definition, f) => {
    const levelIndex = definition.compare(a, b);
    const parameters = (model.comparisons[f] as ComparisonParameters).levels[levelIndex] as LevelParameters;
    let adjustment = 0;
    if (levelIndex === 1 && definition.termFrequency) adjustment = termFrequencyAdjustment(cm, f, a[definition.termFrequency]);
    const weight = (levelIndex === 0 ? 0 : log2(parameters.m / parameters.u)) + adjustment;
    total += weight;
    fields.push({
      field: definition.key,
      fieldLabel: definition.label,
      level: parameters.key,
      description: `${definition.label}: ${parameters.label}`,
      m: parameters.m,
      u: parameters.u,
      weight,
      frequencyAdjustment: adjustment,
      bayesFactor: Math.pow(2, weight),
      leftValue: shown(definition.key, a),
      rightValue: shown(definition.key, b),
    });
  });
  return {
    leftId: a.id,
    rightId: b.id,
    prior: model.prior,
    priorWeight: cm.priorWeight,
    fields,
    totalWeight: total,
    probability: probabilityFromWeight(total),
  };
}
