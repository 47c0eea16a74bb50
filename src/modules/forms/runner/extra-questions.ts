import type { GroupableQuestion } from '../model/components.js';

/** The question types other capabilities ask on their own pages (a report category's, an appointment type's). */
export type ExtraQuestion = Extract<GroupableQuestion, { type: 'text' | 'textarea' | 'number' | 'radios' | 'checkboxes' | 'yesNo' | 'select' }>;

/**
 * What the `question` macro in "forms/questions.njk" takes to draw one such question, with the
 * answer as posted (text, or a list for checkboxes) and its error, if any.
 */
export function extraQuestionView(question: ExtraQuestion, raw: unknown, error: string | undefined) {
  const values = Array.isArray(raw) ? raw.map(String) : raw === undefined || raw === null ? [] : [String(raw)];
  const chosen = new Set(values);
  return {
    type: question.type,
    component: question,
    name: question.id,
    label: question.label,
    ...(question.optional ? { optionalText: ' (optional)' } : {}),
    ...(error ? { error } : {}),
    heading: false,
    value: values[0] ?? '',
    values: [],
    options:
      'options' in question
        ? question.options.map((option) => ({
            value: option.value,
            text: option.text,
            ...('hint' in option && option.hint ? { hint: option.hint } : {}),
            checked: chosen.has(option.value),
            reveals: [],
          }))
        : [],
  };
}

/** An answer in words for check-your-answers and staff pages: the options' text rather than their values. */
export function extraAnswerText(question: ExtraQuestion, value: unknown): string {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return 'Not answered';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  const values = Array.isArray(value) ? value.map(String) : [String(value)];
  if (question.type === 'yesNo') return values[0] === 'yes' ? 'Yes' : 'No';
  if ('options' in question) return values.map((v) => question.options.find((o) => o.value === v)?.text ?? v).join(', ');
  return values.join(', ');
}
