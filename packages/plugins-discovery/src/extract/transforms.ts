import type { FieldTransform } from '../config/county-config.js';

/** A value read from a page: text, or what transforms made of it; null when the page does not have it. */
export type FieldValue = string | number | boolean | null;

const NUMBER = /-?(?:\d[\d,]*(?:\.\d+)?|\.\d+)/;

/** The first number in `text` (`$1,310,000` → 1310000, `2.25 ba` → 2.25); the text itself when it has none. */
export function parseNumber(text: string): number | string {
  const match = NUMBER.exec(text);
  return match ? Number(match[0].replace(/,/g, '')) : text;
}

/** `2015-05-27`, `May 27, 2015` → `2015-05-27`; the text itself when it is not a date. */
export function parseDate(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const ms = Date.parse(`${text}${/\d{1,2}:\d{2}|T|Z/.test(text) ? '' : ' UTC'}`);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString().slice(0, 10);
}

/**
 * Apply one transform. Transforms never throw: a value a transform cannot convert is passed on as
 * it is, so the listing's validation reports it with what the page said.
 */
export function applyTransform(value: FieldValue, transform: FieldTransform, pageUrl: string): FieldValue {
  if (value === null) return null;
  if (typeof transform === 'string') {
    if (typeof value !== 'string') return value;
    switch (transform) {
      case 'trim':
        return value.trim();
      case 'number':
        return parseNumber(value);
      case 'lowercase':
        return value.toLowerCase();
      case 'uppercase':
        return value.toUpperCase();
      case 'date':
        return parseDate(value);
      case 'absoluteUrl':
        try {
          return new URL(value, pageUrl).href;
        } catch {
          return value;
        }
    }
  }
  if ('regex' in transform) {
    const match = new RegExp(transform.regex).exec(String(value));
    return match ? (match[transform.group] ?? null) : null;
  }
  if ('replace' in transform) return String(value).replace(new RegExp(transform.replace, 'g'), transform.with);
  if ('multiply' in transform) return typeof value === 'number' ? value * transform.multiply : value;
  const key = String(value);
  return Object.hasOwn(transform.map, key) ? transform.map[key]! : value;
}

/** Apply a field's transforms in order. */
export function applyTransforms(value: FieldValue, transforms: FieldTransform | readonly FieldTransform[] | undefined, pageUrl: string): FieldValue {
  if (transforms === undefined) return value;
  const list: readonly FieldTransform[] = Array.isArray(transforms) ? transforms : [transforms as FieldTransform];
  return list.reduce<FieldValue>((current, transform) => applyTransform(current, transform, pageUrl), value);
}
