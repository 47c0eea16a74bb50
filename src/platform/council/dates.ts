/** Councils in Great Britain keep UK time; dates residents see and give are days in it. */
const UK_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The day (YYYY-MM-DD) a moment falls on in UK time: today by default. The formatter is made once, as making one costs more than a page. */
export function ukDay(at: Date = new Date()): string {
  return UK_DAY.format(at);
}
