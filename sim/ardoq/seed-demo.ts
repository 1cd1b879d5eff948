import { customFieldsFor, type PlanningType } from './model.ts';
import { oid, pick, seededRandom, seedOf, shuffle } from './random.ts';
import { type ComponentRecord, EPOCH_MS, isoAt, type SimState, type WorkspaceRecord } from './state.ts';

/**
 * The "Demo Planning" workspace: a product-planning tree a new user can browse with no credentials.
 * 2 Domains → 2 Initiatives each → 3 Epics each → 2–4 Features each → 2–4 User Stories each, custom fields
 * filled, plus 11 Applications and Capabilities outside the hierarchy (parent null). About 200 components
 * (170–230 depending on the seed, never fewer than 101), so the default page size (100) needs at least 2
 * pages. The wire order is shuffled (deterministically): children often come before their parents.
 */

export const DEMO_WORKSPACE_NAME = 'Demo Planning';

interface EpicSeed {
  name: string;
  features: [string, string, string, string];
}
interface InitiativeSeed {
  name: string;
  description: string;
  epics: [EpicSeed, EpicSeed, EpicSeed];
}
interface DomainSeed {
  name: string;
  description: string;
  personas: string[];
  initiatives: [InitiativeSeed, InitiativeSeed];
}

const DOMAINS: [DomainSeed, DomainSeed] = [
  {
    name: 'Customer Experience',
    description: 'Everything a customer sees and touches, from the first visit to after-sales support.',
    personas: ['new customer', 'returning customer', 'support agent', 'marketing manager'],
    initiatives: [
      {
        name: 'Self-service Onboarding',
        description: 'Let a new customer sign up, verify and start ordering without talking to sales.',
        epics: [
          {
            name: 'Account sign-up without sales contact',
            features: ['Email sign-up', 'Company profile wizard', 'Team invitations', 'Plan selection'],
          },
          {
            name: 'Guided product tour',
            features: [
              'Interactive first-run tour',
              'Contextual tips',
              'Sample data set',
              'Progress checklist',
            ],
          },
          {
            name: 'Identity verification',
            features: [
              'ID document upload',
              'Bank account check',
              'Manual review queue',
              'Verification status page',
            ],
          },
        ],
      },
      {
        name: 'Mobile App Relaunch',
        description: 'Rebuild the mobile app natively so that mobile conversion matches the web shop.',
        epics: [
          {
            name: 'Native checkout',
            features: [
              'Saved payment methods',
              'Apple Pay and Google Pay',
              'Address autocomplete',
              'Order review screen',
            ],
          },
          {
            name: 'Push notifications',
            features: [
              'Order status notifications',
              'Notification preferences',
              'Price drop alerts',
              'Quiet hours',
            ],
          },
          {
            name: 'Offline order history',
            features: ['Local order cache', 'Background sync', 'Receipt download', 'Reorder from history'],
          },
        ],
      },
    ],
  },
  {
    name: 'Operations & Fulfilment',
    description: 'Getting every order from the warehouse shelf to the doorstep on time and at a fair cost.',
    personas: ['warehouse picker', 'shift lead', 'dispatcher', 'operations analyst'],
    initiatives: [
      {
        name: 'Warehouse Automation',
        description: 'Cut the cost per pick by a third with routing, scanning and better stock data.',
        epics: [
          {
            name: 'Automated picking routes',
            features: ['Route optimiser', 'Handheld scanner app', 'Batch picking', 'Pick exception handling'],
          },
          {
            name: 'Inventory cycle counts',
            features: ['Count scheduling', 'Variance report', 'Blind counts', 'Stock adjustment approval'],
          },
          {
            name: 'Returns intake',
            features: [
              'Return label generation',
              'Condition grading',
              'Restock decision rules',
              'Refund trigger',
            ],
          },
        ],
      },
      {
        name: 'Delivery Reliability',
        description: 'Keep the delivery promise for 98% of orders and tell customers early when we cannot.',
        epics: [
          {
            name: 'Carrier integration hub',
            features: [
              'Carrier rate shopping',
              'Label printing service',
              'Tracking event ingestion',
              'Carrier health dashboard',
            ],
          },
          {
            name: 'Delivery time promises',
            features: [
              'Promise calculator',
              'Cut-off time rules',
              'Holiday calendar',
              'Promise accuracy report',
            ],
          },
          {
            name: 'Proactive delay alerts',
            features: [
              'Delay detection',
              'Customer delay messages',
              'Compensation vouchers',
              'Support case pre-fill',
            ],
          },
        ],
      },
    ],
  },
];

/** Story name stems: "{persona}" and "{feature}" are filled in. */
const STORY_STEMS = [
  'As a {persona}, I can start {feature} from the home screen',
  'As a {persona}, I get a clear message when {feature} fails',
  'As a {persona}, I can undo a mistake in {feature}',
  'As a {persona}, I see the progress of {feature} at a glance',
  'As a {persona}, I can use {feature} on a slow mobile connection',
  'As a {persona}, I find help about {feature} where I need it',
  'As a {persona}, I can switch {feature} on or off for my team',
  'As a {persona}, I see every change made through {feature} in the audit log',
  'As a {persona}, I can export the results of {feature} to a spreadsheet',
  'As a {persona}, I am asked to confirm before {feature} does something irreversible',
];

const TAGS = [
  'mvp',
  'q3',
  'q4',
  'compliance',
  'mobile',
  'tech-debt',
  'ux',
  'payments',
  'customer-facing',
  'data',
];
const PRIORITY_WORDS = ['High', 'Medium', 'Low'] as const;

const OUTSIDE: Array<{ type: 'Application' | 'Capability'; name: string; description: string }> = [
  { type: 'Application', name: 'Web Shop', description: 'The customer-facing web storefront.' },
  { type: 'Application', name: 'Mobile App', description: 'iOS and Android shopping app.' },
  { type: 'Application', name: 'Warehouse Management System', description: 'Stock, bins and pick lists.' },
  { type: 'Application', name: 'Carrier Gateway', description: 'Connects to the parcel carriers’ APIs.' },
  { type: 'Application', name: 'CRM', description: 'Customer accounts, cases and contact history.' },
  { type: 'Capability', name: 'Order Management', description: 'Take, change and track orders.' },
  {
    type: 'Capability',
    name: 'Customer Identity',
    description: 'Know who the customer is and what they may do.',
  },
  { type: 'Capability', name: 'Inventory Management', description: 'Know what is in stock and where.' },
  { type: 'Capability', name: 'Last-mile Delivery', description: 'Hand the parcel to the customer.' },
  { type: 'Capability', name: 'Customer Support', description: 'Answer questions and fix problems.' },
  { type: 'Capability', name: 'Analytics & Reporting', description: 'Turn operational data into decisions.' },
];

const lower = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

export function seedDemoWorkspace(state: SimState): WorkspaceRecord {
  const random = seededRandom(seedOf(state.seed, 'demo'));
  const workspace = state.createWorkspace(
    'demo',
    DEMO_WORKSPACE_NAME,
    'A product-planning workspace: domains, initiatives, epics, features and user stories.',
  );
  const records: ComponentRecord[] = [];
  let n = 0;
  const make = (
    type: PlanningType | 'Application' | 'Capability',
    name: string,
    parent: ComponentRecord | null,
    description: string,
    fields: Record<string, unknown>,
  ): ComponentRecord => {
    n += 1;
    const createdMs = EPOCH_MS + n * 3_600_000;
    const record: ComponentRecord = {
      _id: oid(createdMs, state.seed, 'demo', n),
      name,
      type: state.type(workspace, type),
      parent: parent?._id ?? null,
      rootWorkspace: workspace._id,
      description,
      componentKey: state.nextComponentKey(workspace),
      customFields: customFieldsFor(type, fields),
      created: isoAt(createdMs),
      lastUpdated: isoAt(createdMs + Math.floor(random() * 40) * 86_400_000),
      author: Math.floor(random() * state.users.length),
      version: 1 + Math.floor(random() * 6),
    };
    records.push(record);
    return record;
  };
  const maybe = <T>(share: number, value: () => T): T | undefined => (random() < share ? value() : undefined);
  const tags = () => shuffle([...TAGS], random).slice(0, 1 + Math.floor(random() * 3));
  const priority = () => (random() < 0.6 ? pick(PRIORITY_WORDS, random) : 1 + Math.floor(random() * 4));
  const risk = () => 1 + Math.floor(random() * 3);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  /** 2, 3 or 4, leaning to the top (mean ≈ 3.4), so the workspace has about 200 components. */
  const twoToFour = () => 2 + Math.floor(Math.sqrt(random()) * 3);

  DOMAINS.forEach((domainSeed, d) => {
    const domain = make('Domain', domainSeed.name, null, domainSeed.description, {
      capability_map_order_level_0: d + 1,
      purpose: domainSeed.description,
    });
    domainSeed.initiatives.forEach((initiativeSeed, i) => {
      const initiative = make('Initiative', initiativeSeed.name, domain, initiativeSeed.description, {
        priority: pick(PRIORITY_WORDS, random),
        capability_map_order_level_0: (i + 1) * 10,
        purpose: initiativeSeed.description,
        tags: maybe(0.5, tags),
      });
      initiativeSeed.epics.forEach((epicSeed, e) => {
        const epic = make(
          'Epic',
          epicSeed.name,
          initiative,
          `**${epicSeed.name}** is part of *${initiativeSeed.name}*.\n\n- Owner: ${pick(state.users, random).name}\n- Target: Q${between(1, 4)} 2025`,
          {
            priority: priority(),
            capability_map_order_level_0: (e + 1) * 10,
            context_description: `${initiativeSeed.description} This epic covers ${lower(epicSeed.name)}.`,
            risk: maybe(0.4, risk),
            tags: maybe(0.3, tags),
          },
        );
        const featureCount = twoToFour();
        epicSeed.features.slice(0, featureCount).forEach((featureName, f) => {
          const feature = make(
            'Feature',
            featureName,
            epic,
            `${featureName} for ${lower(epicSeed.name)}. Delivers a usable slice on its own.`,
            {
              priority: priority(),
              capability_map_order_level_0: (f + 1) * 10,
              context_description: `Today the ${pick(domainSeed.personas, random)} works around the missing ${lower(featureName)} by hand.`,
              purpose: `Make ${lower(featureName)} part of the product so that ${lower(epicSeed.name)} can ship.`,
              input: `Research notes, the current process map and the ${initiativeSeed.name} goals.`,
              output_definition_of_done: `${featureName} is live for all customers, documented, monitored and covered by automated tests.`,
              approach: pick(
                [
                  'Ship behind a feature flag to 5% of traffic, then widen weekly.',
                  'Prototype with five users first, then build the production version.',
                  'Reuse the existing service and extend its API; no new infrastructure.',
                  'Buy rather than build: integrate the vendor component and wrap it.',
                ],
                random,
              ),
              risk: maybe(0.35, risk),
              tags: maybe(0.4, tags),
            },
          );
          const stems = shuffle([...STORY_STEMS], random).slice(0, twoToFour());
          for (const stem of stems) {
            const persona = pick(domainSeed.personas, random);
            const name = stem.replace('{persona}', persona).replace('{feature}', lower(featureName));
            const goal = name.slice(name.indexOf(', I ') + 2);
            make('User Story', name, feature, `${name}.`, {
              priority: priority(),
              acceptance_criteria: `Given I am a ${persona}\nWhen I use ${lower(featureName)}\nThen ${goal}`,
              risk: maybe(0.25, risk),
              tags: maybe(0.3, tags),
            });
          }
        });
      });
    });
  });
  OUTSIDE.forEach((item, index) => {
    make(
      item.type,
      item.name,
      null,
      item.description,
      item.type === 'Capability'
        ? { capability_map_order_level_0: index }
        : { lifecycle_phase: pick(['Production', 'Phase out', 'Plan'], random), tags: maybe(0.5, tags) },
    );
  });

  shuffle(records, random);
  // A shuffle of ~200 items always puts some child before its parent; this only makes it a guarantee.
  if (parentsFirst(records)) records.reverse();
  for (const record of records) state.register(workspace, record);
  return workspace;
}

/** True when every component comes after its parent (the order a client must not rely on). */
export function parentsFirst(records: readonly ComponentRecord[]): boolean {
  const seen = new Set<string>();
  const ids = new Set(records.map((r) => r._id));
  for (const record of records) {
    if (record.parent !== null && ids.has(record.parent) && !seen.has(record.parent)) return false;
    seen.add(record._id);
  }
  return true;
}
