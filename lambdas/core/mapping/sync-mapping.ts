import type { FieldMappingConfigRecord, MappingSnapshot } from '#core/domain/field-mapping.ts';
import { ConflictError, ValidationError } from '#core/errors.ts';
import type { FieldMappingStore } from '#core/ports/field-mapping-store.ts';

/** A configuration belongs to a project named (or identified) as the sync names it. */
function belongsTo(config: FieldMappingConfigRecord, project: string): boolean {
  const key = project.toLowerCase();
  return [config.projectId, config.projectName, config.projectRef].some((p) => p?.toLowerCase() === key);
}

export const configSnapshot = (config: FieldMappingConfigRecord): MappingSnapshot => ({
  kind: 'config',
  id: config.id,
  name: config.name,
  ...(config.processTemplateName ? { processTemplateName: config.processTemplateName } : {}),
  mappings: config.mappings,
});

/**
 * The mapping a sync applies, chosen when it is accepted (WORKFLOW.md §6.5) and frozen with it:
 * the configuration it names (404 when unknown, 409 when it is another project's; it wins over a
 * template), else the template it names (400 when unknown), else the project's default configuration.
 * Undefined: none of those; the prepare step then freezes the template of the project's process.
 */
export async function resolveSyncMapping(
  store: Pick<FieldMappingStore, 'config' | 'template' | 'configs'>,
  project: string,
  choice: { fieldMappingConfigId?: string | undefined; processTemplateTemplateName?: string | undefined },
): Promise<MappingSnapshot | undefined> {
  if (choice.fieldMappingConfigId) {
    const config = await store.config(choice.fieldMappingConfigId);
    if (!belongsTo(config, project)) {
      throw new ConflictError(
        `Mapping configuration "${config.name}" is for project ${config.projectName ?? config.projectRef}, not ${project}`,
      );
    }
    return configSnapshot(config);
  }
  if (choice.processTemplateTemplateName) {
    const template = await store.template(choice.processTemplateTemplateName);
    if (!template) {
      const message = `no template for the ${choice.processTemplateTemplateName} process`;
      throw new ValidationError(`Invalid request: processTemplateTemplateName: ${message}`, [
        { path: 'processTemplateTemplateName', message },
      ]);
    }
    return {
      kind: 'template',
      id: template.id,
      name: template.name,
      processTemplateName: template.processTemplateName,
      mappings: template.mappings,
    };
  }
  const fallback = (await store.configs(project)).find((config) => config.isDefault);
  return fallback ? configSnapshot(fallback) : undefined;
}
