import { CursorError, type Cursors, type Page, type Position, pageOf } from './paging.ts';
import type { ComponentRecord, SimState } from './state.ts';
import type { ArdoqPathKind } from './types.ts';
import { componentJson, contextJson, workspaceJson } from './wire.ts';

/** The endpoints of Ardoq REST API v2 the simulator speaks (all GET). */

export interface RouteContext {
  state: SimState;
  cursors: Cursors;
  pageSize: number;
  workspacePageSize: number;
  org: { label: string; name: string };
}

export interface RouteRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** `http://host:port` the client spoke to: the base of `_links.next.href`. */
  origin: string;
}

export interface Outcome {
  status: number;
  json: unknown;
  headers?: Record<string, string>;
  /** A page of a paginated list. */
  page?: boolean;
}

/** Ardoq's error body: `{ message, status }`. */
export const errorBody = (status: number, message: string) => ({ message, status });
const error = (status: number, message: string, headers?: Record<string, string>): Outcome => ({
  status,
  json: errorBody(status, message),
  ...(headers && { headers }),
});

export interface ParsedPath {
  kind: ArdoqPathKind;
  id?: string;
}

export function parsePath(pathname: string): ParsedPath {
  let segments: string[];
  try {
    segments = pathname.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  } catch {
    return { kind: 'other' };
  }
  if (segments[0] !== 'api' || segments[1] !== 'v2') return { kind: 'other' };
  const [resource, id, sub, ...more] = segments.slice(2);
  if (more.length > 0 || !resource) return { kind: 'other' };
  if (resource === 'me' && id === undefined) return { kind: 'me' };
  if (resource === 'workspaces') {
    if (id === undefined) return { kind: 'workspaces' };
    if (sub === undefined) return { kind: 'workspace', id };
    if (sub === 'context') return { kind: 'context', id };
  }
  if (resource === 'components' && sub === undefined) {
    return id === undefined ? { kind: 'components' } : { kind: 'component', id };
  }
  return { kind: 'other' };
}

function paginated<T>(
  ctx: RouteContext,
  req: RouteRequest,
  list: 'c' | 'w',
  filters: URLSearchParams,
  lists: ReadonlyArray<readonly T[]>,
  size: number,
  render: (item: T) => unknown,
  keep?: (item: T) => boolean,
): Outcome {
  const query = filters.toString();
  const cursor = req.query.get('cursor');
  let start: Position = { w: 0, o: 0 };
  if (cursor !== null) {
    try {
      start = ctx.cursors.decode(cursor, list, query);
    } catch (e) {
      if (e instanceof CursorError) return error(400, e.message);
      throw e;
    }
  }
  const page: Page<T> = pageOf(lists, start, size, keep);
  const links: Record<string, { href: string }> = {};
  if (page.next) {
    const next = new URLSearchParams(filters);
    next.set('cursor', ctx.cursors.encode(list, query, page.next));
    links.next = { href: `${req.origin}${req.pathname.replace(/\/+$/, '')}?${next.toString()}` };
  }
  return {
    status: 200,
    page: true,
    json: { values: page.values.map(render), _links: links, _meta: { pageSize: size } },
  };
}

const NOT_FOUND: Record<string, string> = {
  workspace: 'Workspace not found',
  context: 'Workspace not found',
  component: 'Component not found',
};

export function route(ctx: RouteContext, req: RouteRequest, path: ParsedPath): Outcome {
  if (path.kind === 'other') return error(404, 'Not Found');
  if (req.method !== 'GET') return error(405, 'Method Not Allowed', { Allow: 'GET' });
  const { state } = ctx;
  switch (path.kind) {
    case 'me': {
      // Shape unverified against a real tenant: the public docs do not show this answer; a client should
      // read only what it needs from it (a user and the organization it belongs to).
      const user = state.users[0];
      return { status: 200, json: { user: { ...user }, org: { ...ctx.org } } };
    }
    case 'workspaces':
      return paginated(
        ctx,
        req,
        'w',
        new URLSearchParams(),
        [state.workspaces],
        ctx.workspacePageSize,
        workspaceJson,
      );
    case 'workspace':
    case 'context': {
      const workspace = state.workspaceById.get(path.id ?? '');
      if (!workspace) return error(404, NOT_FOUND[path.kind] as string);
      return {
        status: 200,
        json: path.kind === 'workspace' ? workspaceJson(workspace) : contextJson(state, workspace),
      };
    }
    case 'component': {
      const record = state.componentById.get(path.id ?? '');
      if (!record) return error(404, NOT_FOUND.component as string);
      return { status: 200, json: componentJson(state, record) };
    }
    case 'components': {
      const filters = new URLSearchParams();
      const root = req.query.get('rootWorkspace');
      const parent = req.query.get('parent');
      const typeId = req.query.get('typeId');
      if (root !== null) filters.set('rootWorkspace', root);
      if (parent !== null) filters.set('parent', parent);
      if (typeId !== null) filters.set('typeId', typeId);
      let lists: ReadonlyArray<readonly ComponentRecord[]>;
      if (root === null) lists = state.workspaces.map((w) => w.items);
      else {
        const workspace = state.workspaceById.get(root);
        lists = workspace ? [workspace.items] : [];
      }
      const keep =
        parent === null && typeId === null
          ? undefined
          : (r: ComponentRecord) =>
              (parent === null || r.parent === parent) && (typeId === null || r.type.id === typeId);
      return paginated(ctx, req, 'c', filters, lists, ctx.pageSize, (r) => componentJson(state, r), keep);
    }
  }
}
