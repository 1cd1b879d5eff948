import { randomUUID } from 'node:crypto';

/**
 * An error answered as Azure DevOps does: JSON `{$id, innerException, message, typeName, typeKey, errorCode,
 * eventId}`, the message starting with the service's TF/VS code (when it has one).
 */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly typeKey: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SimHttpError';
  }

  /** Headers the answer carries besides the body's (the rate limit's, added where the error passes). */
  headers: Record<string, string> = {};

  body(): Record<string, unknown> {
    return {
      $id: '1',
      innerException: null,
      message: this.message,
      typeName: `Microsoft.TeamFoundation.WorkItemTracking.Server.${this.typeKey}, Microsoft.TeamFoundation.WorkItemTracking.Server`,
      typeKey: this.typeKey,
      errorCode: 0,
      eventId: 3200,
      ...this.extra,
    };
  }
}

export const badRequest = (message: string, typeKey = 'ArgumentException') =>
  new SimHttpError(400, message, typeKey);

export const projectNotFound = (name: string) =>
  new SimHttpError(
    404,
    `TF200016: The following project does not exist: ${name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
    'ProjectDoesNotExistWithNameException',
  );

/** An error of the core area (projects, operations, processes): its typeName is in that namespace. */
export const coreError = (status: number, message: string, typeKey: string) =>
  new SimHttpError(status, message, typeKey, {
    typeName: `Microsoft.TeamFoundation.Core.WebApi.${typeKey}, Microsoft.TeamFoundation.Core.WebApi`,
  });

/**
 * TF200019 is the message the service gives for a duplicate project name (seen in users' reports). The
 * 409 status and the typeKey are not verified against a real organization.
 */
export const projectAlreadyExists = (name: string) =>
  coreError(
    409,
    `TF200019: The following project already exists on the Azure DevOps Server: ${name}. You cannot create a new project with the same name as an existing project. Provide a different name.`,
    'ProjectAlreadyExistsException',
  );

/** Unverified wording: the service's answer to an unknown operation id was not captured. */
export const operationNotFound = (id: string) =>
  coreError(404, `The operation with id ${id} does not exist.`, 'OperationNotFoundException');

/** Unverified wording: an invalid create-project request (name, capabilities, process, visibility). */
export const invalidProject = (message: string) => coreError(400, message, 'ArgumentException');

export const typeNotFound = (name: string) =>
  new SimHttpError(404, `VS402323: Work item type ${name} does not exist.`, 'WorkItemTypeNotFoundException');

export const fieldNotFound = (name: string) =>
  new SimHttpError(400, `TF51535: Cannot find field ${name}.`, 'WorkItemFieldInvalidException');

export const workItemNotFound = (id: number) =>
  new SimHttpError(
    404,
    `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`,
    'WorkItemUnauthorizedAccessException',
  );

/** "Required, HasValues" → "required, hasValues", as the service writes fieldStatusFlags. */
const statusFlags = (errorCodes: string) =>
  errorCodes
    .split(', ')
    .map((code) => code.charAt(0).toLowerCase() + code.slice(1))
    .join(', ');

/** TF401326: a field status other than a rule error (ReadOnly, InvalidType...). */
export const invalidFieldStatus = (referenceName: string, status: string) =>
  new SimHttpError(
    400,
    `TF401326: Invalid field status '${status}' for field '${referenceName}'.`,
    'RuleValidationException',
    { customProperties: { FieldReferenceName: referenceName, FieldStatusFlags: statusFlags(status) } },
  );

/** TF401320: a work item type rule rejected a field value (the message names the field by its name). */
export const ruleError = (fieldName: string, referenceName: string, errorCodes: string) =>
  new SimHttpError(
    400,
    `TF401320: Rule Error for field ${fieldName}. Error code: ${errorCodes}.`,
    'RuleValidationException',
    {
      customProperties: {
        FieldReferenceName: referenceName,
        FieldStatusFlags: statusFlags(errorCodes),
        ErrorMessage: `TF401320: Rule Error for field ${fieldName}. Error code: ${errorCodes}.`,
        RuleValidationErrors: [
          { fieldReferenceName: referenceName, fieldStatusFlags: statusFlags(errorCodes), errorMessage: '' },
        ],
      },
    },
  );

/**
 * A `string` field's value over 255 characters. The wording is what users of the service reported for
 * System.Title ("TF401324: Value for field 'System.Title' is too long."); the typeKey is unverified. The
 * simulator still answers an over-long Title with its older TF401320 InvalidTooLong rule error (create.ts).
 */
export const valueTooLong = (referenceName: string) =>
  new SimHttpError(
    400,
    `TF401324: Value for field '${referenceName}' is too long.`,
    'RuleValidationException',
    {
      customProperties: { FieldReferenceName: referenceName, FieldStatusFlags: 'invalidTooLong' },
    },
  );

export const linkError = (code: 'TF201035' | 'TF201036' | 'TF201063', message: string) =>
  new SimHttpError(400, `${code}: ${message}`, 'WorkItemLinkValidationException');

/** TF400733 for a request blocked over `resource` (the fault plan's: ATCPU; the rate-limit mode's: Core). */
export const throttledBody = (resource = 'ATCPU') =>
  new SimHttpError(
    429,
    `TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '${resource}' in namespace 'User'. For more information on why your request was blocked, see the topic "Rate limits" on the Microsoft Web site (https://go.microsoft.com/fwlink/?LinkId=823950).`,
    'RequestBlockedException',
  ).body();

/**
 * A 503 refuses the request ("try later"): no TF code, so the client classifies it by its status
 * (throttled). TF400898 would say an internal error happened while handling it, a different thing.
 */
export const unavailableBody = () =>
  new SimHttpError(
    503,
    `The service is temporarily unavailable; try again later. Activity Id: ${randomUUID()}.`,
    'ServiceUnavailableException',
  ).body();

/** What a browser-oriented sign-in redirect looks like to an API client: 203 with an HTML page. */
export const SIGN_IN_PAGE = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Azure DevOps Services | Sign In</title></head>
<body><div id="signin">Sign In to continue to Azure DevOps</div></body>
</html>
`;
