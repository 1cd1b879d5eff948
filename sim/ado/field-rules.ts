import { invalidFieldStatus, ruleError, SimHttpError, valueTooLong } from './errors.ts';
import type { FieldDef } from './processes.ts';
import type { ProjectRecord, SimState } from './state.ts';

/**
 * Field value rules: types, lengths, allowed values, identities and tree paths, as the service checks them.
 * A `string` field holds at most 255 characters; plainText, html and history fields have no limit.
 */

const STRING_MAX = 255;

/**
 * The error codes of an allowed-values refusal: the field's rule flags, then its status. A captured
 * refusal of System.State carried the flags "required, hasValues, limitedToValues, invalidListValue"; a
 * field that is not required is assumed to drop the first (unverified).
 */
const limitedToValues = (field: FieldDef) =>
  `${field.alwaysRequired ? 'Required, ' : ''}HasValues, LimitedToValues, InvalidListValue`;

/** Converts a value to what the field stores, or fails like the service's field rules do. */
export function coerce(state: SimState, project: ProjectRecord, field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  let result: unknown;
  switch (field.kind) {
    case 'integer':
    case 'double': {
      const n =
        typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
      if (!Number.isFinite(n) || (field.kind === 'integer' && !Number.isInteger(n))) {
        throw invalidFieldStatus(field.referenceName, 'InvalidType');
      }
      result = n;
      break;
    }
    case 'dateTime': {
      const date = typeof value === 'string' ? new Date(value) : Number.NaN;
      if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
        throw invalidFieldStatus(field.referenceName, 'InvalidDate');
      }
      result = date.toISOString();
      break;
    }
    case 'identity': {
      const who = String(value).toLowerCase();
      const me = state.identity;
      if (who !== me.uniqueName && who !== me.displayName.toLowerCase()) {
        throw ruleError(field.name, field.referenceName, 'InvalidListValue');
      }
      result = me;
      break;
    }
    case 'treePath': {
      // The simulator's projects only have their root area and iteration.
      if (String(value).toLowerCase() !== project.name.toLowerCase()) {
        throw new SimHttpError(
          400,
          `TF401347: Invalid tree name given for work item -1, field '${field.referenceName}'.`,
          'WorkItemTrackingTreeNodeNotFoundException',
        );
      }
      result = project.name;
      break;
    }
    default:
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw invalidFieldStatus(field.referenceName, 'InvalidType');
      }
      result = String(value);
      if (field.kind === 'string' && (result as string).length > STRING_MAX)
        throw valueTooLong(field.referenceName);
  }
  if (field.allowedValues && !field.allowedValues.includes(result as string | number)) {
    throw ruleError(field.name, field.referenceName, limitedToValues(field));
  }
  return result;
}
