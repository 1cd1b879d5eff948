/** Tag on every work item this service creates: overwrite mode deletes only items carrying it. */
export const SYNC_TAG = 'ardoq-sync';

export const MAX_TITLE_LENGTH = 255;
const ELLIPSIS = '…';

/**
 * A work item title: whitespace runs (line breaks included) become one space, trimmed, at most 255 UTF-16
 * code units; a cut title ends with `…` and never splits a surrogate pair.
 */
export function toTitle(name: string): string {
  const title = name.replace(/\s+/g, ' ').trim();
  if (title.length <= MAX_TITLE_LENGTH) return title;
  let end = MAX_TITLE_LENGTH - ELLIPSIS.length;
  const last = title.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${title.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

const PRIORITY_WORDS: Record<string, number> = {
  critical: 1,
  highest: 1,
  urgent: 1,
  high: 2,
  medium: 3,
  normal: 3,
  low: 4,
  lowest: 4,
};

/** `Microsoft.VSTS.Common.Priority` (1 highest … 4 lowest) from a number or a word; undefined otherwise. */
export function toPriority(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text in PRIORITY_WORDS) return PRIORITY_WORDS[text];
    if (!/^[+-]?\d+(\.\d+)?$/.test(text)) return undefined;
    return toPriority(Number(text));
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return Math.min(4, Math.max(1, Math.round(value)));
}

const RISK_WORDS: Record<string, string> = { high: '1 - High', medium: '2 - Medium', low: '3 - Low' };

/** `Microsoft.VSTS.Common.Risk`: high/medium/low (or 1/2/3) → the Agile/CMMI values, other text as is. */
export function toRisk(value: unknown): string | undefined {
  if (typeof value === 'number') return Object.values(RISK_WORDS)[value - 1];
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const text = value.trim();
  return RISK_WORDS[text.toLowerCase()] ?? text;
}

/**
 * `System.Tags`: the sync tag, the component key (old defect 12 dropped it) and the node's own tags
 * (strings or `{ name }`), trimmed, `;` replaced by `,` (it separates tags), de-duplicated
 * case-insensitively (first spelling wins), joined with `; `.
 */
export function toTags(componentKey: unknown, tags: unknown): string {
  const names: string[] = [SYNC_TAG];
  if (typeof componentKey === 'string' || typeof componentKey === 'number') names.push(String(componentKey));
  for (const tag of Array.isArray(tags) ? tags : []) {
    if (typeof tag === 'string') names.push(tag);
    else if (
      typeof tag === 'object' &&
      tag !== null &&
      typeof (tag as { name?: unknown }).name === 'string'
    ) {
      names.push((tag as { name: string }).name);
    }
  }
  const seen = new Set<string>();
  const result: string[] = [];
  for (const name of names) {
    const tag = name.replaceAll(';', ',').trim();
    const key = tag.toLowerCase();
    if (!tag || seen.has(key)) continue;
    seen.add(key);
    result.push(tag);
  }
  return result.join('; ');
}
