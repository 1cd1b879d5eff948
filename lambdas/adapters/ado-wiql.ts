import type { WorkItemSearch } from '#core/ports/work-item-tracker.ts';

/** A WIQL string literal: `'` doubled, wrapped in quotes (the old backend pasted names in unescaped). */
export function wiqlString(value: string): string {
  return `'${escapeWiqlString(value)}'`;
}

export function escapeWiqlString(value: string): string {
  return value.replaceAll("'", "''");
}

/**
 * The WIQL for a search inside the project of the request URL (`@project`). `createdSince` compares
 * with time precision, so the request needs `timePrecision=true`.
 */
export function buildWiqlQuery(search: WorkItemSearch): string {
  if (!search.tag.trim()) throw new Error('a work item search needs a tag');
  const conditions = ['[System.TeamProject] = @project', `[System.Tags] CONTAINS ${wiqlString(search.tag)}`];
  if (search.types && search.types.length > 0) {
    conditions.push(`[System.WorkItemType] IN (${search.types.map(wiqlString).join(', ')})`);
  }
  if (search.title !== undefined) conditions.push(`[System.Title] = ${wiqlString(search.title)}`);
  if (search.createdSince !== undefined) {
    if (Number.isNaN(search.createdSince.getTime())) throw new Error('createdSince is not a valid date');
    conditions.push(`[System.CreatedDate] >= ${wiqlString(search.createdSince.toISOString())}`);
  }
  return `SELECT [System.Id] FROM WorkItems WHERE ${conditions.join(' AND ')} ORDER BY [System.Id]`;
}
