import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Ardoq's pagination (developer.ardoq.com, "Pagination"): a list answers `{ values, _links, _meta }`; while
 * results remain, `_links.next.href` is an opaque absolute URL to follow with the same headers; the last page
 * has no `_links.next`. Here the cursor is a signed position (workspace index, offset) plus the query it
 * belongs to, so a page is a slice of the stored array, never a copy of the whole list.
 */

export interface Position {
  /** Index of the workspace (component lists across all workspaces) or 0. */
  w: number;
  /** Offset in that workspace's components (or in the workspace list). */
  o: number;
}

interface CursorBody extends Position {
  /** The list: 'c' components, 'w' workspaces. */
  l: 'c' | 'w';
  /** The query the cursor belongs to (canonical filters). */
  q: string;
  /** Issue time (ms) and epoch (bumped by expireCursors). */
  t: number;
  e: number;
}

export class CursorError extends Error {}

export class Cursors {
  private readonly key = randomBytes(32);
  private epoch = 0;

  constructor(private readonly ttlMs: number) {}

  expireAll(): void {
    this.epoch += 1;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, 22);
  }

  encode(list: 'c' | 'w', query: string, position: Position): string {
    const body: CursorBody = {
      l: list,
      q: query,
      w: position.w,
      o: position.o,
      t: Date.now(),
      e: this.epoch,
    };
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** The position a cursor points at; throws CursorError when it is malformed, forged, stale or for another query. */
  decode(cursor: string, list: 'c' | 'w', query: string): Position {
    const [payload, signature, extra] = cursor.split('.');
    if (!payload || !signature || extra !== undefined) throw new CursorError('Invalid cursor');
    const wanted = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (wanted.length !== given.length || !timingSafeEqual(wanted, given))
      throw new CursorError('Invalid cursor');
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CursorBody;
    if (body.e !== this.epoch || Date.now() - body.t > this.ttlMs)
      throw new CursorError('Cursor has expired');
    if (body.l !== list || body.q !== query) throw new CursorError('Cursor does not belong to this query');
    return { w: body.w, o: body.o };
  }
}

export interface Page<T> {
  values: T[];
  /** Where the next page starts, when anything remains. */
  next?: Position;
}

/**
 * Up to `size` items matching `keep`, scanning `lists` from `start`. The scan looks one match further, so
 * the last page never links to an empty one.
 */
export function pageOf<T>(
  lists: ReadonlyArray<readonly T[]>,
  start: Position,
  size: number,
  keep?: (item: T) => boolean,
): Page<T> {
  const values: T[] = [];
  for (let w = start.w; w < lists.length; w += 1) {
    const list = lists[w] as readonly T[];
    let o = w === start.w ? start.o : 0;
    if (!keep) {
      // Unfiltered: plain slices.
      if (values.length === size) {
        if (o < list.length) return { values, next: { w, o } };
        continue;
      }
      const taken = list.slice(o, o + size - values.length);
      values.push(...taken);
      o += taken.length;
      if (values.length === size && o < list.length) return { values, next: { w, o } };
      continue;
    }
    for (; o < list.length; o += 1) {
      if (!keep(list[o] as T)) continue;
      if (values.length === size) return { values, next: { w, o } };
      values.push(list[o] as T);
    }
  }
  return { values };
}
