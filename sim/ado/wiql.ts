import { badRequest } from './errors.ts';
import { knownField } from './processes.ts';
import type { ItemRecord } from './state.ts';

/**
 * The WIQL subset our client may use, parsed strictly so that client bugs show:
 *   SELECT [System.Id] FROM WorkItems WHERE <cond> [AND <cond>]... [ORDER BY [System.Id] [ASC|DESC]]
 * cond: [System.TeamProject] = @project | '<name>'; [System.Tags] CONTAINS '<tag>';
 *       [System.WorkItemType] = '<t>' | IN ('<a>', ...); [System.Title] = '<s>'; [System.CreatedDate] >= '<date>'.
 * Keywords, field names and string comparisons are case-insensitive, as in the service.
 */

export const WIQL_RESULT_LIMIT = 20_000;
const WIQL_MAX_LENGTH = 32_768;

type Token = { kind: 'field' | 'string' | 'macro' | 'word' | 'punct'; text: string };

export type Condition =
  | { field: 'System.TeamProject'; project: string | { macro: 'project' } }
  | { field: 'System.Tags'; tag: string }
  | { field: 'System.WorkItemType'; types: string[] }
  | { field: 'System.Title'; title: string }
  | { field: 'System.CreatedDate'; from: Date; hasTime: boolean };

export interface WiqlQuery {
  conditions: Condition[];
  descending: boolean;
}

const unsupported = (detail: string) =>
  badRequest(
    `VS402782: The query is not supported by the Azure DevOps simulator (it accepts one WIQL subset only): ${detail}`,
    'WorkItemTrackingQueryInvalidSyntaxException',
  );

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) throw unsupported('an unclosed [ in a field name.');
      tokens.push({ kind: 'field', text: text.slice(i + 1, end).trim() });
      i = end + 1;
    } else if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === "'" && text[j + 1] === "'") [value, j] = [`${value}'`, j + 1];
        else if (text[j] === "'") break;
        else value += text[j];
      }
      if (j >= text.length) throw unsupported('an unterminated string literal.');
      tokens.push({ kind: 'string', text: value });
      i = j + 1;
    } else {
      const match = /^(>=|<=|<>|[=<>(),]|@\w+|[A-Za-z_][\w.]*)/.exec(text.slice(i));
      if (!match?.[0]) throw unsupported(`unexpected text «${text.slice(i, i + 20)}».`);
      const word = match[0];
      tokens.push({ kind: word.startsWith('@') ? 'macro' : /^\w/.test(word) ? 'word' : 'punct', text: word });
      i += word.length;
    }
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.at];
  }
  isWord(word: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.text.toLowerCase() === word.toLowerCase();
  }
  word(word: string): void {
    if (!this.isWord(word))
      throw unsupported(`expected ${word.toUpperCase()} near «${this.peek()?.text ?? 'the end'}».`);
    this.at++;
  }
  punct(p: string): void {
    const t = this.peek();
    if (t?.kind !== 'punct' || t.text !== p)
      throw unsupported(`expected «${p}» near «${t?.text ?? 'the end'}».`);
    this.at++;
  }
  string(): string {
    const t = this.peek();
    if (t?.kind !== 'string') throw unsupported(`expected a string literal near «${t?.text ?? 'the end'}».`);
    this.at++;
    return t.text;
  }
  /** Consumes the macro when it comes next. */
  macro(name: string): boolean {
    const t = this.peek();
    if (t?.kind !== 'macro' || t.text.toLowerCase() !== name.toLowerCase()) return false;
    this.at++;
    return true;
  }
  /** A field name, bracketed or not, resolved to its reference name. */
  field(): string {
    const t = this.peek();
    if (t?.kind !== 'field' && t?.kind !== 'word')
      throw unsupported(`expected a field near «${t?.text ?? 'the end'}».`);
    this.at++;
    const field = knownField(t.text);
    if (!field) {
      throw badRequest(
        `TF51005: The query references a field that does not exist. The error is caused by «${t.text}».`,
        'WorkItemTrackingQueryInvalidSyntaxException',
      );
    }
    return field.referenceName;
  }
  done(): boolean {
    return this.at >= this.tokens.length;
  }
}

function condition(p: Parser): Condition {
  const field = p.field();
  switch (field) {
    case 'System.TeamProject': {
      p.punct('=');
      if (p.macro('@project')) return { field, project: { macro: 'project' } };
      return { field, project: p.string() };
    }
    case 'System.Tags':
      p.word('CONTAINS');
      return { field, tag: p.string() };
    case 'System.WorkItemType': {
      if (p.isWord('IN')) {
        p.word('IN');
        p.punct('(');
        const types = [p.string()];
        while (p.peek()?.text === ',') {
          p.punct(',');
          types.push(p.string());
        }
        p.punct(')');
        return { field, types };
      }
      p.punct('=');
      return { field, types: [p.string()] };
    }
    case 'System.Title':
      p.punct('=');
      return { field, title: p.string() };
    case 'System.CreatedDate': {
      p.punct('>=');
      const text = p.string();
      const match = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
      const from = new Date(match && !match[1] ? `${text}T00:00:00Z` : text);
      if (!match || Number.isNaN(from.getTime())) throw unsupported(`«${text}» is not an ISO date.`);
      return { field, from, hasTime: Boolean(match[1]) };
    }
    default:
      throw unsupported(`conditions on ${field} are not supported.`);
  }
}

export function parseWiql(text: string): WiqlQuery {
  if (text.length > WIQL_MAX_LENGTH) {
    throw badRequest(
      'VS402782: The WIQL query exceeds the length limit of 32K characters.',
      'WiqlTooLongException',
    );
  }
  const p = new Parser(tokenize(text));
  p.word('SELECT');
  if (p.field() !== 'System.Id' || p.peek()?.text === ',')
    throw unsupported('only SELECT [System.Id] is supported.');
  p.word('FROM');
  p.word('WorkItems');
  p.word('WHERE');
  const conditions = [condition(p)];
  while (p.isWord('AND')) {
    p.word('AND');
    conditions.push(condition(p));
  }
  let descending = false;
  if (p.isWord('ORDER')) {
    p.word('ORDER');
    p.word('BY');
    if (p.field() !== 'System.Id') throw unsupported('only ORDER BY [System.Id] is supported.');
    if (p.isWord('DESC') || p.isWord('ASC')) {
      descending = p.isWord('DESC');
      p.word(descending ? 'DESC' : 'ASC');
    }
  }
  if (!p.done())
    throw unsupported(
      `unexpected «${p.peek()?.text}» (OR, NOT, parentheses and other clauses are not supported).`,
    );
  return { conditions, descending };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Runs a parsed query over the live work items; `project` is what @project means (the URL's project). */
export function runWiql(
  query: WiqlQuery,
  items: Iterable<ItemRecord>,
  project: string,
  timePrecision: boolean,
) {
  for (const c of query.conditions) {
    if (c.field === 'System.CreatedDate' && c.hasTime && !timePrecision) {
      throw badRequest(
        `VS402625: You cannot supply a time with the date when running a query using date precision. The error is caused by «${c.from.toISOString()}».`,
        'WorkItemTrackingQueryInvalidSyntaxException',
      );
    }
  }
  const matches = (item: ItemRecord, c: Condition): boolean => {
    switch (c.field) {
      case 'System.TeamProject':
        return same(item.project, typeof c.project === 'string' ? c.project : project);
      case 'System.Tags':
        return String(item.fields['System.Tags'] ?? '')
          .split(';')
          .some((tag) => same(tag.trim(), c.tag.trim()));
      case 'System.WorkItemType':
        return c.types.some((t) => same(t, item.type));
      case 'System.Title':
        return same(String(item.fields['System.Title'] ?? ''), c.title);
      case 'System.CreatedDate':
        return item.createdAt.getTime() >= c.from.getTime();
    }
  };
  const ids = [...items].filter((item) => !item.deleted && query.conditions.every((c) => matches(item, c)));
  return ids.map((item) => item.id).sort((a, b) => (query.descending ? b - a : a - b));
}
