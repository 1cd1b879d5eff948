import {
  type Hyperlink,
  type IdentityRef,
  type NewWorkItem,
  READ_ONLY_FIELDS,
  type WorkItemDetails,
} from '#core/ports/work-item-tracker.ts';

export const PARENT_LINK = 'System.LinkTypes.Hierarchy-Reverse';

export type JsonPatchOperation = { op: 'add'; path: string; value: unknown };

/** RFC 6901: `~` and `/` inside a path segment. */
function pointerSegment(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** JSON Patch document of a create: fields (read-only ones dropped), parent link, hyperlink. */
export function createPatch(item: NewWorkItem, base: string): JsonPatchOperation[] {
  const operations: JsonPatchOperation[] = Object.entries(item.fields)
    .filter(([name]) => !READ_ONLY_FIELDS.has(name))
    .map(([name, value]) => ({ op: 'add', path: `/fields/${pointerSegment(name)}`, value }));
  if (item.parentId !== undefined) {
    if (!Number.isSafeInteger(item.parentId) || item.parentId <= 0) {
      throw new Error(`invalid parent work item id ${item.parentId}`);
    }
    operations.push({
      op: 'add',
      path: '/relations/-',
      value: { rel: PARENT_LINK, url: `${base}/_apis/wit/workItems/${item.parentId}` },
    });
  }
  if (item.hyperlink) {
    const { url, comment } = item.hyperlink;
    operations.push({
      op: 'add',
      path: '/relations/-',
      value: { rel: 'Hyperlink', url, ...(comment === undefined ? {} : { attributes: { comment } }) },
    });
  }
  return operations;
}

/** The web link (not the REST URL, old defect 4). */
export function webUrlOf(base: string, project: string | undefined, id: number): string {
  return project
    ? `${base}/${encodeURIComponent(project)}/_workitems/edit/${id}`
    : `${base}/_workitems/edit/${id}`;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function identityOf(value: unknown): IdentityRef | undefined {
  return asRecord(value) as IdentityRef | undefined;
}

/** A work item of a `workitemsbatch` answer (`$expand=relations`) → details; undefined if unusable. */
export function toWorkItemDetails(raw: unknown, base: string): WorkItemDetails | undefined {
  const item = asRecord(raw);
  const id = item?.id;
  if (!item || typeof id !== 'number') return undefined;
  const fields = asRecord(item.fields) ?? {};
  const text = (name: string): string => {
    const value = fields[name];
    return typeof value === 'string' ? value : '';
  };
  const details: WorkItemDetails = {
    id,
    type: text('System.WorkItemType'),
    title: text('System.Title'),
    tags: text('System.Tags')
      .split(';')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ''),
    hyperlinks: [],
    webUrl: webUrlOf(base, text('System.TeamProject') || undefined, id),
  };
  const html = asRecord(asRecord(asRecord(item._links)?.html))?.href;
  if (typeof html === 'string' && html) details.webUrl = html;
  const changedBy = identityOf(fields['System.ChangedBy']);
  if (changedBy) details.changedBy = changedBy;
  for (const entry of asArray(item.relations)) {
    const relation = asRecord(entry);
    const url = relation?.url;
    if (typeof url !== 'string') continue;
    if (relation?.rel === PARENT_LINK) {
      const parentId = /\/(\d+)\/?$/.exec(url)?.[1];
      if (parentId !== undefined) details.parentId = Number(parentId);
    } else if (relation?.rel === 'Hyperlink') {
      const comment = asRecord(relation.attributes)?.comment;
      const link: Hyperlink = { url };
      if (typeof comment === 'string') link.comment = comment;
      details.hyperlinks.push(link);
    }
  }
  return details;
}
