import type { AnyNode, Cheerio, CheerioAPI } from 'cheerio';
import type { FieldSpec, FieldSpecs } from '../config/county-config.js';
import { applyTransforms, type FieldValue } from './transforms.js';

/** Values read from one list item or detail page: the mapped fields, and the `extra` ones. */
export interface ExtractedFields {
  readonly fields: Record<string, FieldValue>;
  readonly extra: Record<string, FieldValue>;
}

/** Read one field: the text (whitespace collapsed) or attribute of the first match; null when absent or empty. */
export function extractField($: CheerioAPI, root: Cheerio<AnyNode>, spec: FieldSpec, pageUrl: string): FieldValue {
  const { selector, attribute, transform } = typeof spec === 'string' ? { selector: spec, attribute: undefined, transform: undefined } : spec;
  const element = selector ? root.find(selector).first() : root.first();
  if (element.length === 0) return null;
  const raw = attribute ? element.attr(attribute) : $(element).text();
  const text = raw?.replace(/\s+/g, ' ').trim();
  if (!text) return null;
  return applyTransforms(text, transform, pageUrl);
}

/** Read every field of `specs` under `root`. */
export function extractFields($: CheerioAPI, root: Cheerio<AnyNode>, specs: FieldSpecs, pageUrl: string): ExtractedFields {
  const fields: Record<string, FieldValue> = {};
  const extra: Record<string, FieldValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (name === 'extra' || spec === undefined) continue;
    fields[name] = extractField($, root, spec as FieldSpec, pageUrl);
  }
  for (const [name, spec] of Object.entries(specs.extra ?? {})) extra[name] = extractField($, root, spec, pageUrl);
  return { fields, extra };
}

/**
 * Combine what the list item and the detail page say about a listing: the detail page's values win,
 * except where it has nothing.
 */
export function mergeFields(list: ExtractedFields, detail: ExtractedFields | undefined): ExtractedFields {
  if (!detail) return list;
  const pick = (a: Record<string, FieldValue>, b: Record<string, FieldValue>): Record<string, FieldValue> => {
    const merged = { ...a };
    for (const [key, value] of Object.entries(b)) if (value !== null || !(key in merged)) merged[key] = value;
    return merged;
  };
  return { fields: pick(list.fields, detail.fields), extra: pick(list.extra, detail.extra) };
}
