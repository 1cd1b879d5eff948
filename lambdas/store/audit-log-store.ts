import * as z from 'zod';
import { pickView } from '#core/domain/sync-history-view.ts';
import { ValidationError } from '#core/errors.ts';
import type { Queryable } from '#store/database.ts';
import { sqlJson } from '#store/database.ts';

export const AuditActionType = z.enum([
  'sync_started',
  'sync_completed',
  'sync_failed',
  'sync_cancelled',
  'config_created',
  'config_updated',
  'config_deleted',
  'config_activated',
  'connection_tested',
]);
export type AuditActionType = z.infer<typeof AuditActionType>;
export const AuditEntityType = z.enum(['sync', 'configuration']);

export const NewAuditLog = z.object({
  actionType: AuditActionType,
  entityType: AuditEntityType,
  entityId: z.string().min(1).max(255).optional(),
  userId: z.string().min(1).max(255).optional(),
  sourceIp: z.string().max(64).optional(),
  userAgent: z.string().max(1024).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type NewAuditLog = z.input<typeof NewAuditLog>;

/** `AuditLog` as the frontend reads it (CONTRACT.md §4). */
export const AuditLog = z.object({
  id: z.uuid(),
  action_type: AuditActionType,
  entity_type: AuditEntityType,
  entity_id: z.string().optional(),
  user_id: z.string().optional(),
  source_ip: z.string().optional(),
  user_agent: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  created_at: z.iso.datetime(),
});
export type AuditLog = z.infer<typeof AuditLog>;

/** Appends one audit log entry (the table is append-only: there is no update or delete). */
export async function appendAuditLog(db: Queryable, entry: NewAuditLog): Promise<AuditLog> {
  const parsed = NewAuditLog.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`Invalid audit log: ${issue?.path.join('.')} ${issue?.message}`);
  }
  const e = parsed.data;
  const { rows } = await db.query(
    `INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details)
     VALUES (:actionType, :entityType, :entityId, :userId, :sourceIp, :userAgent, CAST(:details AS jsonb))
     RETURNING *`,
    {
      actionType: e.actionType,
      entityType: e.entityType,
      entityId: e.entityId ?? null,
      userId: e.userId ?? null,
      sourceIp: e.sourceIp ?? null,
      userAgent: e.userAgent ?? null,
      details: e.details === undefined ? null : sqlJson(e.details),
    },
  );
  return pickView(AuditLog, rows[0] ?? {});
}
