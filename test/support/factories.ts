import { randomUUID } from 'node:crypto';
import type { StoredTypes } from '#core/domain/stored-types.ts';
import type { NewSync, PlanNode } from '#core/domain/sync-model.ts';

/** A unique project name per test, so tests sharing a database never see each other's rows. */
export const uniqueProject = (label = 'Project'): string => `${label} ${randomUUID().slice(0, 8)}`;

/**
 * A flattened plan of `epics` × `features` × `stories` nodes (parents first), ids prefixed so two
 * plans never collide.
 */
export function buildPlan(
  epics: number,
  features = 0,
  stories = 0,
  prefix = randomUUID().slice(0, 6),
): PlanNode[] {
  const plan: PlanNode[] = [];
  for (let e = 0; e < epics; e++) {
    const epicId = `${prefix}-e${e}`;
    plan.push({
      ardoqId: epicId,
      parentArdoqId: null,
      itemType: 'epic',
      name: `Epic ${e}`,
      payload: { _id: epicId },
    });
    for (let f = 0; f < features; f++) {
      const featureId = `${epicId}-f${f}`;
      plan.push({
        ardoqId: featureId,
        parentArdoqId: epicId,
        itemType: 'feature',
        name: `Feature ${e}.${f}`,
        payload: { _id: featureId },
      });
      for (let s = 0; s < stories; s++) {
        const storyId = `${featureId}-s${s}`;
        plan.push({
          ardoqId: storyId,
          parentArdoqId: featureId,
          itemType: 'user_story',
          name: `Story ${e}.${f}.${s}`,
          payload: { _id: storyId, priority: 2 },
        });
      }
    }
  }
  return plan;
}

export function newSync(plan: PlanNode[], overrides: Partial<NewSync> = {}): NewSync {
  return {
    projectName: uniqueProject(),
    targetConfigId: 'config-1',
    overwriteMode: false,
    deadlineAt: new Date(Date.now() + 2 * 60 * 60 * 1000),
    actor: { userId: 'user-1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
    plan,
    ...overrides,
  };
}

export const createdOutcome = (ardoqId: string, azureDevOpsId: number) => ({
  ardoqId,
  status: 'created' as const,
  azureDevOpsId,
  azureDevOpsUrl: `https://dev.azure.com/org/Project/_workitems/edit/${azureDevOpsId}`,
  changedByUser: { displayName: 'Sync Bot', uniqueName: 'bot@example.com' },
});

export const failedOutcome = (ardoqId: string, errorMessage = 'TF401320: rule error') => ({
  ardoqId,
  status: 'failed' as const,
  errorMessage,
});

/** Work item types as `prepare` stores them on a sync (Agile, with a few fields). */
export function storedTypes(): StoredTypes {
  const fields = ['System.Title', 'System.Description', 'System.Tags'];
  return {
    process: 'Agile',
    epic: { name: 'Epic', fields },
    feature: { name: 'Feature', fields },
    user_story: { name: 'User Story', fields },
  };
}
