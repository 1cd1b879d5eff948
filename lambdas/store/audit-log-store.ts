import * as z from 'zod';
import { AuditActionType, AuditEntityType, type AuditLog, type NewAuditLog } from '#core/domain/audit.ts';
import type { AuditTrail } from '#core/ports/audit-trail.ts';
import type { Database, Queryable } from './database.ts';
import { sqlJson } from './database.ts';
import { asView, col, parseRow } from './rows.ts';

/** An `audit_logs` row. */
export const AuditRow = z.object({
  id: col.text,
  action_type: AuditActionType,
  entity_type: AuditEntityType,
  entity_id: col.nullableText,
  user_id: col.nullableText,
  source_ip: col.nullableText,
  user_agent: col.nullableText,
  details: col.nullableJson,
  created_at: col.time,
});

/** An `audit_logs` row as the frontend reads it. */
export const toAuditLog = (row: unknown): AuditLog =>
  asView(parseRow(AuditRow, row as never, 'audit_logs')) as AuditLog;

const INSERT_AUDIT = `INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details)
VALUES (:actionType, :entityType, :entityId, :userId, :sourceIp, :userAgent, CAST(:details AS jsonb))
RETURNING *`;

/** Appends one audit log entry (the table is append-only: there is no update or delete). */
export async function appendAuditLog(db: Queryable, entry: NewAuditLog): Promise<AuditLog> {
  const { rows } = await db.query(INSERT_AUDIT, {
    actionType: entry.actionType,
    entityType: entry.entityType,
    entityId: entry.entityId ?? null,
    userId: entry.userId ?? null,
    sourceIp: entry.sourceIp ?? null,
    userAgent: entry.userAgent ?? null,
    details: entry.details === undefined ? null : sqlJson(entry.details),
  });
  return toAuditLog(rows[0]);
}

/** `AuditTrail` over the `audit_logs` table. */
export class SqlAuditTrail implements AuditTrail {
  constructor(private readonly db: Queryable) {}

  append(entry: NewAuditLog): Promise<AuditLog> {
    return appendAuditLog(this.db, entry);
  }
}

/** A change and its audit entries, in one transaction: never one without the other. */
export function writeAudited<R>(
  db: Database,
  audit: readonly NewAuditLog[],
  change: (tx: Queryable) => Promise<R>,
): Promise<R> {
  return db.transaction(async (tx) => {
    const result = await change(tx);
    for (const entry of audit) await appendAuditLog(tx, entry);
    return result;
  });
}
