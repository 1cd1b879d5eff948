import type { AuditLog, NewAuditLog } from '#core/domain/audit.ts';

/**
 * The `AuditTrail` port: the append-only audit log. Writes that change something append their entry in
 * the same transaction through their own store; this is for entries of their own (e.g. a refused
 * attempt).
 */
export interface AuditTrail {
  append(entry: NewAuditLog): Promise<AuditLog>;
}
