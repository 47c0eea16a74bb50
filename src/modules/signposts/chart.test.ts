import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeXml } from '#platform/views/xml';
import { formatProbability, matchWeightChart } from './chart.js';
import type { Explanation, FieldContribution } from './linkage/explain.js';

function field(description: string, weight: number): FieldContribution {
  const [label = description] = description.split(':');
  return {
    field: label.toLowerCase(),
    fieldLabel: label,
    level: 'level',
    description,
    m: 0.9,
    u: 0.1,
    weight,
    frequencyAdjustment: 0,
    bayesFactor: 2 ** weight,
    leftValue: '',
    rightValue: '',
  };
}

function explanation(priorWeight: number, fields: FieldContribution[], ids = { leftId: 'CSC-1', rightId: 'EDU-9' }): Explanation {
  const totalWeight = priorWeight + fields.reduce((sum, f) => sum + f.weight, 0);
  return { ...ids, prior: 1 / (1 + 2 ** -priorWeight), priorWeight, fields, totalWeight, probability: 1 / (1 + 2 ** -totalWeight) };
}

const linked = explanation(-12.3, [
  field('Forename: exact match', 5.2),
  field('Surname: exact match', 6.4),
  field('Date of birth: exact match', 7.1),
  field('Postcode: different', -3.5),
  field('Gender: missing on one or both records', 0),
]);

interface Bar {
  kind: string;
  x: number;
  width: number;
  fill: string;
}

function bars(svg: string): Bar[] {
  return [...svg.matchAll(/<rect class="bar bar-(\w+)"[^>]*? x="([\d.-]+)"[^>]*? width="([\d.]+)"[^>]*? fill="([^"]+)"/g)].map((m) => ({
    kind: m[1] ?? '',
    x: Number(m[2]),
    width: Number(m[3]),
    fill: m[4] ?? '',
  }));
}

function zeroAxis(svg: string): number {
  const match = /<line class="axis-zero" x1="([\d.]+)"/.exec(svg);
  assert.ok(match?.[1], 'the chart has a zero line');
  return Number(match[1]);
}

function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const [r = 0, g = 0, b = 0] = channels;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrastWithWhite = (hex: string) => 1.05 / (luminance(hex) + 0.05);

describe('matchWeightChart', () => {
  const svg = matchWeightChart(linked);

  it('draws a bar for the starting point, one per field and one for the total', () => {
    const drawn = bars(svg);
    assert.equal(drawn.length, linked.fields.length + 2);
    assert.deepEqual(
      drawn.map((bar) => bar.kind),
      ['prior', 'field', 'field', 'field', 'field', 'field', 'total'],
    );
    const label = [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]).join(' ');
    assert.match(label, /^Starting point: how likely any two records are the same person Forename/);
  });

  it('draws negative weights leftwards and positive ones rightwards, each from where the last ended', () => {
    const drawn = bars(svg);
    const zero = zeroAxis(svg);
    const [prior, forename, surname, dob, postcode, gender, total] = drawn;
    assert.ok(prior && forename && surname && dob && postcode && gender && total);
    // The starting point is negative, so it lies wholly left of the zero line.
    assert.ok(prior.x + prior.width <= zero + 0.2, `prior bar ends at ${prior.x + prior.width}, axis at ${zero}`);
    assert.ok(prior.x < zero);
    assert.equal(prior.fill, '#d4351c');
    // Forename starts where the prior ended and goes right.
    assert.ok(Math.abs(forename.x - prior.x) < 0.2);
    assert.equal(forename.fill, '#00703c');
    assert.ok(Math.abs(surname.x - (forename.x + forename.width)) < 0.2);
    // The postcode disagreement goes left from the running total after the date of birth.
    assert.equal(postcode.fill, '#d4351c');
    assert.ok(Math.abs(postcode.x + postcode.width - (dob.x + dob.width)) < 0.2);
    // The total runs from zero to the total weight.
    assert.equal(total.fill, '#1d70b8');
    assert.ok(Math.abs(total.x - zero) < 0.2);
    assert.ok(Math.abs(total.x + total.width - postcode.x) < 0.2);
    assert.ok(gender.width <= 2);
  });

  it('summarises the total, the probability and the biggest contributions in its description', () => {
    const desc = /<desc id="([^"]+)">([^<]*)<\/desc>/.exec(svg);
    assert.ok(desc?.[2]);
    assert.match(desc[2], /^Total match weight 2\.9, probability 88\.2%\./);
    assert.match(desc[2], /Biggest contributions: Date of birth: exact match \+7\.1; Surname: exact match \+6\.4; Forename: exact match \+5\.2\./);
    assert.match(desc[2], /Starting point \u221212\.3/);
    assert.match(svg, /Total \(probability 88\.2%\)/);
  });

  it('is an image labelled by its title and description', () => {
    const labelledBy = /aria-labelledby="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
    assert.equal(labelledBy.length, 2);
    assert.match(svg, new RegExp(`<title id="${labelledBy[0]}">Match weight for records CSC-1 and EDU-9</title>`));
    assert.match(svg, new RegExp(`<desc id="${labelledBy[1]}">`));
    assert.match(svg, /^<svg [^>]*role="img"/);
    assert.match(svg, /viewBox="0 0 960 \d+(\.\d)?" width="100%"/);
    assert.doesNotMatch(svg, /<script|<style|on\w+=|href=/i);
  });

  it('uses a stable id per pair of records, or the one given', () => {
    const again = matchWeightChart(linked);
    const other = matchWeightChart({ ...linked, rightId: 'EDU-10' });
    const idOf = (chart: string) => /<svg [^>]*\bid="([^"]+)"/.exec(chart)?.[1];
    assert.equal(idOf(again), idOf(svg));
    assert.notEqual(idOf(other), idOf(svg));
    const named = matchWeightChart(linked, { id: 'pair 7"' });
    assert.equal(idOf(named), 'pair-7-');
    assert.match(named, /<title id="pair-7--title">/);
  });

  it('escapes text for XML', () => {
    const tricky = explanation(-10, [field('Name: <b>"Tom" & \'Jerry\'</b>', 4)], { leftId: 'a&b', rightId: '<c>' });
    const chart = matchWeightChart(tricky, { title: 'Fish & chips <now>' });
    assert.doesNotMatch(chart, /<b>|"Tom"|& |<c>|<now>/);
    assert.match(chart, /<title id="[^"]+">Fish &amp; chips &lt;now&gt;<\/title>/);
    assert.match(chart, /Name: &lt;b&gt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&lt;\/b&gt;/);
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('keeps labels in their own column, left of every bar', () => {
    const plotLeft = Math.min(...bars(svg).map((bar) => bar.x));
    const labelXs = [...svg.matchAll(/<tspan x="([\d.]+)"/g)].map((m) => Number(m[1]));
    const valueXs = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="end"/g)].map((m) => Number(m[1]));
    assert.ok(labelXs.length >= linked.fields.length + 2);
    assert.ok(valueXs.every((x) => x < plotLeft));
    // The longest label wraps rather than running into the plot.
    const longest = Math.max(...[...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => (m[1] ?? '').length));
    assert.ok(longest <= 44, `longest label line is ${longest} characters`);
  });

  it('sets text at 16px or more in colours readable on white', () => {
    const sizes = [...svg.matchAll(/font-size="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.ok(sizes.length > 0 && sizes.every((size) => size >= 16));
    const textFills = [...svg.matchAll(/<(?:svg|text)\b[^>]*\bfill="(#[0-9a-f]{6})"/gi)].map((m) => m[1] ?? '');
    for (const colour of [...textFills, '#00703c', '#d4351c', '#1d70b8']) assert.ok(contrastWithWhite(colour) >= 4.5, `${colour} on white`);
  });

  it('puts axis ticks on round match weights, including zero', () => {
    const ticks = [...svg.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1] ?? '');
    assert.ok(ticks.includes('0'), `ticks: ${ticks.join(', ')}`);
    assert.ok(ticks.some((tick) => tick.startsWith('\u2212')));
    assert.ok(ticks.includes('Match weight'));
  });

  it('never rounds a probability to certainty', () => {
    assert.equal(formatProbability(0.99999), 'over 99.9%');
    assert.equal(formatProbability(1), 'over 99.9%');
    assert.equal(formatProbability(0.00001), 'under 0.1%');
    assert.equal(formatProbability(0.5), '50.0%');
  });
});
