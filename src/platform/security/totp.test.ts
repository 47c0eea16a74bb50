import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, base32Encode, generateTotp, generateTotpSecret, hotp, totpStep, totpUri, verifyTotp, TOTP_PERIOD_SECONDS } from './totp.js';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_KEY = Buffer.from('12345678901234567890', 'ascii');
const RFC_SECRET = base32Encode(RFC_KEY);
const RFC_VECTORS: [seconds: number, code: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('base32 round-trips and matches RFC 4648 examples', () => {
  const examples: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  for (const [plain, encoded] of examples) {
    assert.equal(base32Encode(Buffer.from(plain)), encoded);
    assert.equal(base32Decode(encoded).toString(), plain);
    assert.equal(base32Decode(`${encoded.toLowerCase()}======`).toString(), plain);
  }
  assert.equal(RFC_SECRET, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.equal(base32Decode('GEZD GNBV-GY3T QOJQ GEZD GNBV GY3T QOJQ').toString(), '12345678901234567890');
  assert.throws(() => base32Decode('ABC1'), /base32/);
});

test('matches the RFC 6238 SHA-1 test vectors (8 digits)', () => {
  for (const [seconds, code] of RFC_VECTORS) {
    assert.equal(hotp(RFC_KEY, Math.floor(seconds / TOTP_PERIOD_SECONDS), 8), code, `at T=${seconds}`);
    assert.equal(generateTotp(RFC_SECRET, { now: seconds * 1000, digits: 8 }), code);
  }
});

test('6-digit codes are the last six digits of the RFC vectors and verify at their time', () => {
  for (const [seconds, code] of RFC_VECTORS) {
    const six = code.slice(-6);
    assert.equal(generateTotp(RFC_SECRET, { now: seconds * 1000 }), six);
    assert.equal(verifyTotp(RFC_SECRET, six, { now: seconds * 1000 }), totpStep(seconds * 1000));
  }
});

test('accepts one step of drift either side by default, and no more', () => {
  const now = 1_700_000_000_000;
  const step = totpStep(now);
  const at = (s: number) => generateTotp(RFC_SECRET, { now: s * TOTP_PERIOD_SECONDS * 1000 });
  assert.equal(verifyTotp(RFC_SECRET, at(step - 1), { now }), step - 1);
  assert.equal(verifyTotp(RFC_SECRET, at(step + 1), { now }), step + 1);
  assert.equal(verifyTotp(RFC_SECRET, at(step - 2), { now }), null);
  assert.equal(verifyTotp(RFC_SECRET, at(step + 2), { now }), null);
  assert.equal(verifyTotp(RFC_SECRET, at(step - 2), { now, window: 2 }), step - 2);
  assert.equal(verifyTotp(RFC_SECRET, at(step - 1), { now, window: 0 }), null);
  assert.equal(verifyTotp(RFC_SECRET, at(step), { now, window: 0 }), step);
});

test('refuses a code from a step already used, and earlier steps', () => {
  const now = 1_700_000_000_000;
  const step = totpStep(now);
  const code = generateTotp(RFC_SECRET, { now });
  const used = verifyTotp(RFC_SECRET, code, { now });
  assert.equal(used, step);
  assert.equal(verifyTotp(RFC_SECRET, code, { now, lastUsedStep: used }), null);
  const previous = generateTotp(RFC_SECRET, { now: now - TOTP_PERIOD_SECONDS * 1000 });
  assert.equal(verifyTotp(RFC_SECRET, previous, { now, lastUsedStep: used }), null);
  const next = generateTotp(RFC_SECRET, { now: now + TOTP_PERIOD_SECONDS * 1000 });
  assert.equal(verifyTotp(RFC_SECRET, next, { now, lastUsedStep: used }), step + 1);
});

test('ignores spaces in what was typed and refuses malformed codes', () => {
  const now = 1_700_000_000_000;
  const code = generateTotp(RFC_SECRET, { now });
  assert.ok(verifyTotp(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, { now }) !== null);
  for (const bad of ['', '12345', '1234567', 'abcdef', `${code}0`]) assert.equal(verifyTotp(RFC_SECRET, bad, { now }), null, bad);
  assert.equal(verifyTotp('not base32!', code, { now }), null);
  assert.equal(verifyTotp('', code, { now }), null);
});

test('generates 160-bit secrets and an otpauth URI', () => {
  const secret = generateTotpSecret();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.equal(base32Decode(secret).length, 20);
  assert.notEqual(generateTotpSecret(), secret);

  const uri = totpUri({ issuer: 'Borough Council', account: 'sam@example.org', secret });
  const parsed = new URL(uri);
  assert.equal(parsed.protocol, 'otpauth:');
  assert.ok(uri.startsWith('otpauth://totp/Borough%20Council:sam%40example.org?'));
  assert.equal(parsed.searchParams.get('secret'), secret);
  assert.equal(parsed.searchParams.get('issuer'), 'Borough Council');
  assert.equal(parsed.searchParams.get('algorithm'), 'SHA1');
  assert.equal(parsed.searchParams.get('digits'), '6');
  assert.equal(parsed.searchParams.get('period'), '30');
  assert.ok(!uri.includes('+'));
});
