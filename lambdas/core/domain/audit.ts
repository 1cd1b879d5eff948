import * as z from 'zod';

/** The audit log's vocabulary and its view (CONTRACT.md §4), constrained in the database too (0003). */

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
  'access_denied',
]);
export type AuditActionType = z.infer<typeof AuditActionType>;
export const AuditEntityType = z.enum(['sync', 'configuration']);

/** One audit entry to append (who is an `Actor`'s fields). */
export interface NewAuditLog {
  actionType: AuditActionType;
  entityType: z.infer<typeof AuditEntityType>;
  entityId?: string;
  userId?: string;
  sourceIp?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
}

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
