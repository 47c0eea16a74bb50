/**
 * The XML side of Open311 GeoReport v2: the same values as the JSON answers, written as elements the
 * way the specification shows them. A list is written as its element holding one element per item
 * (`<services><service>…</service></services>`), so every list's item name is listed here.
 */
import { escapeXml } from '#platform/views/xml';

/** A JSON-like value to write as XML; keys whose value is undefined are left out, as JSON.stringify does. */
export type XmlValue = string | number | boolean | null | undefined | readonly XmlValue[] | { readonly [name: string]: XmlValue };

const ITEM_ELEMENTS: Readonly<Record<string, string>> = {
  services: 'service',
  service_requests: 'request',
  service_request_updates: 'request_update',
  errors: 'error',
  attributes: 'attribute',
  values: 'value',
  endpoints: 'endpoint',
  formats: 'format',
};

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function isList(value: XmlValue): value is readonly XmlValue[] {
  return Array.isArray(value);
}

function element(name: string, value: XmlValue): string {
  // Names come from code, never from input; a bad one is a programming mistake.
  if (!NAME.test(name)) throw new Error(`"${name}" cannot be an XML element name`);
  if (value === null || value === undefined || value === '') return `<${name}></${name}>`;
  if (isList(value)) {
    const item = ITEM_ELEMENTS[name];
    if (!item) throw new Error(`No item element is known for the list <${name}>`);
    return `<${name}>${value.map((v) => element(item, v)).join('')}</${name}>`;
  }
  if (typeof value === 'object') {
    const children = Object.entries(value).flatMap(([key, child]) => (child === undefined ? [] : [element(key, child)]));
    return `<${name}>${children.join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document: the declaration, then the root element holding the value. */
export function xmlDocument(root: string, value: XmlValue): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n${element(root, value)}\n`;
}
