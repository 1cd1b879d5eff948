import type { WorkQueue } from '#core/ports/work-queue.ts';
import type { Database, SqlParams } from '#store/database.ts';

/** Every message is sent twice: SQS's at-least-once delivery at its worst. */
export function duplicatingQueue(queue: WorkQueue): WorkQueue {
  return {
    send: async (messages, options) => {
      await queue.send(messages, options);
      await queue.send(messages, options);
    },
    retryLater: (receiptHandle, delaySeconds) => queue.retryLater(receiptHandle, delaySeconds),
  };
}

/**
 * A processor crash between the Azure DevOps call and the database write: the first `crashes`
 * recordings of a created item fail, and so does the dying processor's attempt to give its claim
 * back. The work item exists in ADO, the database knows nothing, the message comes back later.
 */
export function crashAfterCreate(db: Database, crashes: number): Database & { crashed: string[] } {
  const crashed: string[] = [];
  const dying = new Set<string>();
  const query = async (sql: string, params?: SqlParams) => {
    if (sql.includes('CAST(:outcomes AS jsonb)') && crashed.length < crashes) {
      const outcomes =
        (params?.outcomes as { value: Array<{ ardoq_id: string; status: string }> } | undefined)?.value ?? [];
      const created = outcomes.find((o) => o.status === 'created');
      if (created) {
        crashed.push(created.ardoq_id);
        dying.add(created.ardoq_id);
        throw new Error('simulated crash after the Azure DevOps call');
      }
    }
    if (sql.includes("SET state = 'pending', claimed_at = NULL")) {
      const ids = (params?.ardoqIds as { value: string[] } | undefined)?.value ?? [];
      if (ids.some((id) => dying.delete(id)))
        throw new Error('simulated crash: the claim is never given back');
    }
    return db.query(sql, params);
  };
  return {
    crashed,
    query: query as Database['query'],
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}
