import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type ErrorDetail, formatPath, ValidationError } from '#core/errors.ts';
import { MAX_BODY_BYTES, PayloadTooLargeError } from './http.ts';

/**
 * What the router checks on every request before a route runs, so hostile input is a 400/413/415 and
 * never reaches the database or recursive code: text without NUL or lone surrogates, a JSON body within
 * `JSON_LIMITS`, a JSON content type.
 */

/**
 * Shape limits of a JSON body, far above what a legitimate request needs: a 10,000-item sync tree
 * nests about 9 deep (body → epics → epic → children → feature → children → story → customFields →
 * value) and its widest object is a node with ~50 customFields. Above them the body is hostile, and
 * recursive code (JSON.stringify of a node's payload, zod) would overflow the stack: a 500.
 */
export const JSON_LIMITS = {
  /** Arrays and objects inside one another, the body itself counting as 1. */
  maxDepth: 32,
  /** Keys of one object. */
  maxKeys: 1_000,
  /** Items of one array (every node of a 10,000-item tree fits in one, twice over). */
  maxItems: 20_000,
} as const;

/** A 400 whose message and single detail name `path`. */
export function invalidInput(path: string, message: string): ValidationError {
  return new ValidationError(`Invalid request: ${path}: ${message}`, [{ path, message }]);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Why `text` cannot be stored or passed on, or undefined when it can: PostgreSQL refuses NUL in
 * `text` and `jsonb`, and a lone surrogate is not Unicode (invalid JSON for `jsonb`, silently
 * replaced by U+FFFD in `text`).
 */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL (U+0000)';
  if (!SURROGATE.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++; // a well-formed pair
      continue;
    }
    return `must not contain a lone surrogate (U+${unit.toString(16).toUpperCase()}): it is not valid Unicode`;
  }
  return undefined;
}

/** A key or value shown in an error path: NUL and lone surrogates escaped, at most 100 characters. */
export function printable(text: string): string {
  const shown = text.length > 100 ? `${text.slice(0, 100)}…` : text;
  let out = '';
  for (let i = 0; i < shown.length; i++) {
    const unit = shown.charCodeAt(i);
    const next = shown.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += shown.slice(i, i + 2);
      i++;
    } else if (unit === 0 || (unit >= 0xd800 && unit <= 0xdfff)) {
      out += `\\u${unit.toString(16).padStart(4, '0')}`;
    } else out += shown[i];
  }
  return out;
}

interface Frame {
  value: object;
  depth: number;
  parent: Frame | undefined;
  key: string | number;
}

function pathOf(frame: Frame | undefined, last?: string | number): string {
  const keys: Array<string | number> = last === undefined ? [] : [last];
  for (let f = frame; f?.parent; f = f.parent) keys.push(f.key);
  return formatPath(keys.reverse()) || 'body';
}

/**
 * The first thing in a parsed JSON body that breaks `JSON_LIMITS`, holds NUL or a lone surrogate
 * (in a key or a string), or is a number beyond a double; undefined when there is none. Walks the
 * value once with its own stack (no recursion) and stops descending at the depth limit, so even a
 * 10 MB body of brackets costs one bounded pass.
 */
export function jsonProblem(root: unknown, limits = JSON_LIMITS): ErrorDetail | undefined {
  const scalar = (value: unknown): string | undefined => {
    if (typeof value === 'string') return textProblem(value);
    if (typeof value === 'number' && !Number.isFinite(value)) return 'must be a number within ±1.8e308';
    return undefined;
  };
  const rootProblem = scalar(root);
  if (rootProblem) return { path: 'body', message: rootProblem };
  if (typeof root !== 'object' || root === null) return undefined;
  const stack: Frame[] = [{ value: root, depth: 1, parent: undefined, key: '' }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const { value, depth } = frame;
    const visit = (child: unknown, key: string | number): ErrorDetail | undefined => {
      const problem = scalar(child);
      if (problem) return { path: pathOf(frame, key), message: problem };
      if (typeof child !== 'object' || child === null) return undefined;
      if (depth + 1 > limits.maxDepth) {
        return { path: pathOf(frame, key), message: `must not nest deeper than ${limits.maxDepth} levels` };
      }
      stack.push({ value: child, depth: depth + 1, parent: frame, key });
      return undefined;
    };
    if (Array.isArray(value)) {
      if (value.length > limits.maxItems) {
        return { path: pathOf(frame), message: `must not have more than ${limits.maxItems} items` };
      }
      for (let i = 0; i < value.length; i++) {
        const problem = visit(value[i], i);
        if (problem) return problem;
      }
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > limits.maxKeys) {
      return { path: pathOf(frame), message: `must not have more than ${limits.maxKeys} keys` };
    }
    for (const key of keys) {
      const keyProblem = textProblem(key);
      if (keyProblem) return { path: pathOf(frame, printable(key)), message: `key ${keyProblem}` };
      const problem = visit((value as Record<string, unknown>)[key], key);
      if (problem) return problem;
    }
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request's JSON body (undefined without one), or a 400/413 naming the problem: over 10 MB, not
 * UTF-8, not JSON, or beyond `jsonProblem`'s rules. The router reads it once, before the route's
 * schema checks it.
 */
export function readJsonBody(event: APIGatewayProxyEvent): unknown {
  if (!event.body) return undefined;
  let text = event.body;
  if (event.isBase64Encoded) {
    const bytes = Buffer.from(event.body, 'base64');
    if (bytes.length > MAX_BODY_BYTES) throw new PayloadTooLargeError('Request body is larger than 10 MB');
    try {
      text = utf8.decode(bytes);
    } catch {
      throw invalidInput('body', 'must be UTF-8 encoded JSON');
    }
  } else if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError('Request body is larger than 10 MB');
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('Request body is not valid JSON', [{ path: 'body', message: 'invalid JSON' }]);
  }
  const problem = jsonProblem(value);
  if (problem) throw invalidInput(problem.path, problem.message);
  return value;
}

/**
 * Whether a Content-Type names JSON: `application/json`, any case, with parameters, but no charset
 * other than UTF-8 (JSON is UTF-8, RFC 8259).
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type = '', ...parameters] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') return true;
    return /^"?utf-?8"?$/i.test(value.trim());
  });
}
