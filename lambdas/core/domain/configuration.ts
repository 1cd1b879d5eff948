import * as z from 'zod';

/**
 * A stored connection to one system (Azure DevOps, Ardoq). The credential itself (PAT, API token) stays
 * in the secret store: `secretRef` points to it. `T` is where the credential goes: the organization of
 * an Azure DevOps configuration, the API host (and org label) of an Ardoq one.
 */
export type ConfigurationRecord<T extends object = AdoTarget> = ConfigurationState & T;

export interface ConfigurationState {
  id: string;
  name: string;
  secretRef: string;
  isActive: boolean;
  isTested: boolean;
  testPassed: boolean;
  testError?: string;
  createdAt: string;
  updatedAt: string;
}

/** Where an Azure DevOps PAT goes. */
export interface AdoTarget {
  organization: string;
}

/** Where an Ardoq API token goes: its host, and the `X-org` label when the host needs one. */
export interface ArdoqTarget {
  apiHost: string;
  orgLabel?: string;
}

/** A configuration to store (its credential already in the secret store). */
export type NewConfiguration<T extends object = AdoTarget> = {
  id: string;
  name: string;
  secretRef: string;
  isActive?: boolean;
  isTested?: boolean;
  testPassed?: boolean;
  testError?: string;
} & T;

/** Columns a change may set; `null` clears an optional one (`testError`, an Ardoq `orgLabel`). */
export type ConfigurationChanges<T extends object = AdoTarget> = {
  name?: string;
  secretRef?: string;
  isTested?: boolean;
  testPassed?: boolean;
  testError?: string | null;
} & { [K in keyof T]?: T[K] | null };

/** What every configuration answer shows of its state (never the credential). */
const StateView = {
  id: z.string(),
  name: z.string(),
  isActive: z.boolean(),
  isTested: z.boolean(),
  testPassed: z.boolean(),
  testError: z.string().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

/** `Configuration` as the frontend reads it (CONTRACT.md §6): camelCase, never the PAT. */
export const ConfigurationView = z.object({ ...StateView, organization: z.string() });
export type ConfigurationView = z.infer<typeof ConfigurationView>;

/** `ArdoqConfiguration` as the frontend reads it (WORKFLOW.md §3.1): never the API token. */
export const ArdoqConfigurationView = z.object({
  ...StateView,
  apiHost: z.string(),
  orgLabel: z.string().optional(),
});
export type ArdoqConfigurationView = z.infer<typeof ArdoqConfigurationView>;

/** A record without its secret reference: what an answer may show. */
export function toConfigurationView<T extends object>(
  record: ConfigurationRecord<T>,
): Omit<ConfigurationRecord<T>, 'secretRef'> {
  const { secretRef: _secret, ...view } = record;
  return view;
}
