import * as z from 'zod';

/** A stored Azure DevOps connection; the PAT itself stays in the secret store (`secretRef`). */
export interface ConfigurationRecord {
  id: string;
  name: string;
  organization: string;
  secretRef: string;
  isActive: boolean;
  isTested: boolean;
  testPassed: boolean;
  testError?: string;
  createdAt: string;
  updatedAt: string;
}

/** A configuration to store (its PAT already in the secret store). */
export interface NewConfiguration {
  id: string;
  name: string;
  organization: string;
  secretRef: string;
  isActive?: boolean;
  isTested?: boolean;
  testPassed?: boolean;
  testError?: string;
}

/** Columns a change may set; `testError: null` clears it. */
export interface ConfigurationChanges {
  name?: string;
  organization?: string;
  secretRef?: string;
  isTested?: boolean;
  testPassed?: boolean;
  testError?: string | null;
}

/** `Configuration` as the frontend reads it (CONTRACT.md §6): camelCase, never the PAT. */
export const ConfigurationView = z.object({
  id: z.string(),
  name: z.string(),
  organization: z.string(),
  isActive: z.boolean(),
  isTested: z.boolean(),
  testPassed: z.boolean(),
  testError: z.string().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type ConfigurationView = z.infer<typeof ConfigurationView>;

export function toConfigurationView(record: ConfigurationRecord): ConfigurationView {
  const { secretRef: _secret, ...view } = record;
  return view;
}
