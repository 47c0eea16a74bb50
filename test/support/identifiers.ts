import { nhsCheckDigit } from '#modules/signposts/linkage/index';

/** A ten-digit NHS number with a correct check digit: the nine-digit stem, or the next stem that has one. */
export function nhsNumber(stem: number): string {
  for (let s = stem; ; s++) {
    const nine = String(s).padStart(9, '0').slice(-9);
    const check = nhsCheckDigit(nine);
    if (check !== undefined) return `${nine}${check}`;
  }
}
