import { customFieldsFor, PLANNING_TYPES, type PlanningType } from './model.ts';
import { oid, pick, seededRandom, seedOf, shuffle } from './random.ts';
import { type ComponentRecord, EPOCH_MS, isoAt, type SimState } from './state.ts';
import type { GeneratedWorkspace, GenerateWorkspaceOptions } from './types.ts';

/**
 * Big well-formed workspaces for the bench: exactly N components, Domain → Initiative → Epic → Feature →
 * User Story, every parent one level up. Records share their texts and custom-field objects (a few variants
 * per type), so 50,000 components take a few MB and well under a second.
 */

/** Components per level: about 1 Domain per 1,000, 1 Initiative per 200, 1 Epic per 40, 1 Feature per 8. */
export function levelCounts(total: number): number[] {
  if (!Number.isInteger(total) || total < 0)
    throw new Error(`components must be a whole number ≥ 0, got ${total}`);
  if (total < PLANNING_TYPES.length) return PLANNING_TYPES.map((_, level) => (level < total ? 1 : 0));
  const counts = [1000, 200, 40, 8].map((per) => Math.max(1, Math.round(total / per)));
  const upper = counts.reduce((sum, n) => sum + n, 0);
  return [...counts, total - upper];
}

const PHRASES = [
  'Bulk invoice export',
  'Single sign-on',
  'Usage analytics',
  'Audit trail',
  'Role-based access',
  'Search suggestions',
  'Saved filters',
  'Data retention rules',
  'Webhook delivery',
  'Rate limit dashboard',
  'Dark mode',
  'Accessibility fixes',
  'Localisation',
  'Onboarding emails',
  'Customer feedback widget',
  'Subscription upgrades',
  'Payment retries',
  'Fraud signals',
  'Delivery slot booking',
  'Stock reservations',
  'Partner API',
  'Mobile offline mode',
  'Report scheduling',
  'Import wizard',
];

const VARIANTS = 8;

function fieldVariants(type: PlanningType, random: () => number): Array<Record<string, unknown>> {
  const variants: Array<Record<string, unknown>> = [];
  for (let v = 0; v < VARIANTS; v += 1) {
    const phrase = pick(PHRASES, random);
    const priority = v % 3 === 0 ? 1 + (v % 4) : (['High', 'Medium', 'Low'] as const)[v % 3];
    const values: Record<string, unknown> = {
      Domain: { purpose: `Own the ${phrase.toLowerCase()} area end to end.` },
      Initiative: { priority, purpose: `Grow adoption through ${phrase.toLowerCase()}.` },
      Epic: {
        priority,
        context_description: `Customers keep asking for ${phrase.toLowerCase()}.`,
        risk: v % 4 === 0 ? 1 + (v % 3) : undefined,
      },
      Feature: {
        priority,
        context_description: `The current ${phrase.toLowerCase()} is manual.`,
        purpose: `Automate ${phrase.toLowerCase()}.`,
        input: 'Interview notes and the support backlog.',
        output_definition_of_done: 'Released, documented and monitored.',
        approach: 'Behind a feature flag, widened weekly.',
        risk: v % 3 === 0 ? 1 + (v % 3) : undefined,
        tags: v % 2 === 0 ? ['generated', phrase.toLowerCase().replace(/\s+/g, '-')] : undefined,
      },
      'User Story': {
        priority,
        acceptance_criteria: `Given a user\nWhen they use ${phrase.toLowerCase()}\nThen it works as described.`,
        risk: v % 5 === 0 ? 2 : undefined,
      },
    }[type] as Record<string, unknown>;
    variants.push(Object.freeze(customFieldsFor(type, values)));
  }
  return variants;
}

export function generateWorkspace(state: SimState, options: GenerateWorkspaceOptions): GeneratedWorkspace {
  const counts = levelCounts(options.components);
  const generation = state.nextAddedKey();
  const seed = options.seed ?? state.seed;
  const random = seededRandom(seedOf(seed, 'generate', options.name, options.components));
  const createdMs = EPOCH_MS + 90 * 86_400_000;
  const workspace = state.createWorkspace(
    `generated:${generation}:${seed}:${options.name}`,
    options.name,
    options.description ?? `Generated: ${options.components} components.`,
    createdMs,
  );
  const created = isoAt(createdMs);
  const updated = isoAt(createdMs + 86_400_000);
  const records: ComponentRecord[] = [];
  const countsByType: Record<string, number> = {};
  let previous: ComponentRecord[] = [];
  let n = 0;
  PLANNING_TYPES.forEach((typeName, level) => {
    const count = counts[level] ?? 0;
    countsByType[typeName] = count;
    const type = state.type(workspace, typeName, level);
    const fields = fieldVariants(typeName, random);
    const descriptions = fields.map((_, v) => `${typeName} generated for load tests (variant ${v + 1}).`);
    const current: ComponentRecord[] = new Array(count);
    for (let i = 0; i < count; i += 1) {
      n += 1;
      // Parents spread evenly: child i of a level goes under parent ⌊i·P/C⌋ of the level above.
      const parent =
        level === 0 ? null : (previous[Math.floor((i * previous.length) / count)] as ComponentRecord);
      const variant = (i * 7 + level) % VARIANTS;
      const record: ComponentRecord = {
        _id: oid(createdMs, seed, workspace._id, n),
        name: `${typeName} ${i + 1}: ${PHRASES[(i + level * 5) % PHRASES.length]}`,
        type,
        parent: parent?._id ?? null,
        rootWorkspace: workspace._id,
        description: descriptions[variant] as string,
        componentKey: state.nextComponentKey(workspace),
        customFields: fields[variant] as Record<string, unknown>,
        ...(typeName !== 'User Story' && { order: (i % 100) + 1 }),
        created,
        lastUpdated: updated,
        author: i % state.users.length,
        version: 1,
      };
      current[i] = record;
      records.push(record);
    }
    previous = current;
  });
  if (options.shuffle !== false) shuffle(records, random);
  for (const record of records) state.register(workspace, record);
  return { id: workspace._id, name: workspace.name, components: records.length, countsByType };
}
