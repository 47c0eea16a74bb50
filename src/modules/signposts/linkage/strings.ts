// String similarity for record linkage. The hot paths reuse module-level buffers so that scoring millions
// of pairs allocates nothing per comparison.

// Match flags are stamped with a per-call generation number instead of being cleared each call.
let stampA = new Uint32Array(64);
let stampB = new Uint32Array(64);
let generation = 0;

function nextGeneration(n: number): number {
  if (stampA.length < n) {
    stampA = new Uint32Array(n * 2);
    stampB = new Uint32Array(n * 2);
  }
  generation++;
  if (generation === 0xffffffff) {
    stampA.fill(0);
    stampB.fill(0);
    generation = 1;
  }
  return generation;
}

/**
 * Jaro-Winkler similarity in [0, 1]; 1 for equal strings, 0 when either is empty. With `minimum`, returns 0
 * as soon as the similarity provably cannot reach it, which makes rejecting unlike strings cheap.
 */
export function jaroWinkler(a: string, b: string, minimum = 0): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  // The prefix bonus lifts Jaro j to at most j + 0.4 (1 - j), so reaching `minimum` needs
  // j >= (minimum - 0.4) / 0.6, and j <= (m/la + m/lb + 1) / 3 bounds the matches m needed.
  const jaroNeeded = minimum > 0.4 ? (minimum - 0.4) / 0.6 : 0;
  const matchesNeeded = jaroNeeded > 0 ? (3 * jaroNeeded - 1) / (1 / la + 1 / lb) - 1e-9 : 0;
  if (matchesNeeded > Math.min(la, lb)) return 0;
  const g = nextGeneration(Math.max(la, lb));
  const range = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    if (matches + (la - i) < matchesNeeded) return 0;
    const lo = i > range ? i - range : 0;
    const hi = Math.min(i + range + 1, lb);
    const c = a.charCodeAt(i);
    for (let j = lo; j < hi; j++) {
      if (stampB[j] !== g && b.charCodeAt(j) === c) {
        stampA[i] = g;
        stampB[j] = g;
        matches++;
        break;
      }
    }
  }
  if (matches === 0 || matches < matchesNeeded) return 0;
  let k = 0;
  let halfTranspositions = 0;
  for (let i = 0; i < la; i++) {
    if (stampA[i] !== g) continue;
    while (stampB[k] !== g) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) halfTranspositions++;
    k++;
  }
  const m = matches;
  const jaro = (m / la + m / lb + (m - halfTranspositions / 2) / m) / 3;
  let prefix = 0;
  const maxPrefix = Math.min(4, la, lb);
  while (prefix < maxPrefix && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/** True when one insertion, deletion, substitution or adjacent transposition (or none) turns a into b. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (la === lb) {
    let i = 0;
    while (a.charCodeAt(i) === b.charCodeAt(i)) i++;
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return i + 1 < la && a.charCodeAt(i) === b.charCodeAt(i + 1) && a.charCodeAt(i + 1) === b.charCodeAt(i) && a.slice(i + 2) === b.slice(i + 2);
  }
  if (Math.abs(la - lb) !== 1) return false;
  const [short, long] = la < lb ? [a, b] : [b, a];
  let i = 0;
  while (i < short.length && short.charCodeAt(i) === long.charCodeAt(i)) i++;
  return short.slice(i) === long.slice(i + 1);
}

/** Positions at which two strings of the same length differ (Infinity for different lengths). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) d++;
  return d;
}

let rowPrev2 = new Int32Array(64);
let rowPrev = new Int32Array(64);
let rowCur = new Int32Array(64);

/**
 * Damerau-Levenshtein distance (optimal string alignment: insertions, deletions, substitutions and adjacent
 * transpositions), computed only up to `limit` (at most 2 by default); anything further returns limit + 1.
 */
export function boundedEditDistance(a: string, b: string, limit = 2): number {
  if (a === b) return 0;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > limit) return limit + 1;
  if (la === 0) return lb;
  if (lb === 0) return la;
  if (rowCur.length < lb + 1) {
    rowPrev2 = new Int32Array((lb + 1) * 2);
    rowPrev = new Int32Array((lb + 1) * 2);
    rowCur = new Int32Array((lb + 1) * 2);
  }
  for (let j = 0; j <= lb; j++) rowPrev[j] = j;
  for (let i = 1; i <= la; i++) {
    rowCur[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca === cb ? 0 : 1;
      let v = Math.min((rowPrev[j] as number) + 1, (rowCur[j - 1] as number) + 1, (rowPrev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) v = Math.min(v, (rowPrev2[j - 2] as number) + 1);
      rowCur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    const spare = rowPrev2;
    rowPrev2 = rowPrev;
    rowPrev = rowCur;
    rowCur = spare;
  }
  const d = rowPrev[lb] as number;
  return d > limit ? limit + 1 : d;
}

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u', 'y']);
const isVowel = (c: string | undefined): boolean => c !== undefined && VOWELS.has(c);

/**
 * An English phonetic key. It folds spellings that sound alike onto one code: silent initial letters
 * (kn, gn, pn, wr, ps), common digraphs (ph -> f, ck/q/chr -> k, sh/ch/tch -> x, th -> 0, dg/soft g -> j,
 * soft c -> s, mb at the end -> m, gh -> silent), voiced/unvoiced near pairs (z -> s, v -> f), drops vowels
 * after the first letter and h/w/y not followed by a vowel, then collapses repeats. At most 8 characters.
 */
export function phoneticKey(input: string): string {
  const s = input.toLowerCase().replace(/[^a-z]/g, '');
  if (s.length === 0) return '';
  let w = s;
  if (/^(kn|gn|pn|wr|ps)/.test(w)) w = w.slice(1);
  else if (w.startsWith('x')) w = 's' + w.slice(1);
  else if (w.startsWith('wh')) w = 'w' + w.slice(2);
  let out = isVowel(w[0]) && w[0] !== 'y' ? 'a' : '';
  let last = '';
  const push = (code: string): void => {
    if (code !== last) out += code;
    last = code;
  };
  for (let i = out ? 1 : 0; i < w.length; i++) {
    const c = w[i] as string;
    const n = w[i + 1];
    const p = w[i - 1];
    switch (c) {
      case 'a':
      case 'e':
      case 'i':
      case 'o':
      case 'u':
        last = '';
        break;
      case 'y':
        if (i === 0 && isVowel(n)) push('y');
        else last = '';
        break;
      case 'b':
        if (!(p === 'm' && i === w.length - 1)) push('b');
        break;
      case 'c':
        if (n === 'h') {
          // "chr" and "chl" are hard (christopher, chloe); otherwise ch is soft.
          push(w[i + 2] === 'r' || w[i + 2] === 'l' ? 'k' : 'x');
          i++;
        } else if (n === 'k') {
          push('k');
          i++;
        } else if (n === 'e' || n === 'i' || n === 'y') push('s');
        else push('k');
        break;
      case 'd':
        if (n === 'g' && (w[i + 2] === 'e' || w[i + 2] === 'i' || w[i + 2] === 'y')) {
          push('j');
          i++;
        } else push('t');
        break;
      case 'g':
        if (n === 'h') {
          if (i === 0) push('k');
          i++;
        } else if (n === 'n' && i + 2 >= w.length) {
          /* silent g in a final -gn */
        } else if (n === 'e' || n === 'i' || n === 'y') push('j');
        else push('k');
        break;
      case 'h':
        if (isVowel(n) && !'csptg'.includes(p ?? '')) push('h');
        break;
      case 'p':
        if (n === 'h') {
          push('f');
          i++;
        } else push('p');
        break;
      case 'q':
        push('k');
        break;
      case 's':
        if (n === 'h') {
          push('x');
          i++;
        } else if (n === 'c' && w[i + 2] === 'h') {
          push('s');
          push('k');
          i += 2;
        } else push('s');
        break;
      case 't':
        if (n === 'c' && w[i + 2] === 'h') break;
        if (n === 'h') {
          push('0');
          i++;
        } else if (n === 'i' && (w[i + 2] === 'a' || w[i + 2] === 'o')) push('x');
        else push('t');
        break;
      case 'v':
        push('f');
        break;
      case 'w':
        if (isVowel(n)) push('w');
        else last = '';
        break;
      case 'x':
        push('k');
        push('s');
        break;
      case 'z':
        push('s');
        break;
      default:
        push(c);
    }
  }
  return out.slice(0, 8);
}
