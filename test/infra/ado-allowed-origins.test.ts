import { beforeAll, describe, expect, it } from 'vitest';
import { loadStageConfig } from '#lib/config.ts';
import { type SynthesizedApp, synthApp } from './support/synth.ts';

const SERVER = 'https://ado.corp.example';

/** `POWERTOOLS_SERVICE_NAME` → `ADO_ALLOWED_ORIGINS` (undefined when the variable is not set). */
function allowedOriginsByService(synth: SynthesizedApp): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const fn of Object.values(synth.statelessTemplate.findResources('AWS::Lambda::Function'))) {
    const variables = (fn.Properties as { Environment?: { Variables?: Record<string, string> } }).Environment
      ?.Variables;
    const service = variables?.POWERTOOLS_SERVICE_NAME;
    if (service) result[service] = variables?.ADO_ALLOWED_ORIGINS;
  }
  return result;
}

/** `ado.allowedOrigins`: the origins (an Azure DevOps Server) a PAT may go to besides Azure DevOps'. */
describe('stage key ado.allowedOrigins', () => {
  let withServer: SynthesizedApp;
  let standard: SynthesizedApp;

  beforeAll(() => {
    withServer = synthApp(
      {
        stage: 'onprem',
        stages: { onprem: { ado: { allowedOrigins: [SERVER, 'https://tfs.corp.example:8443'] } } },
      },
      { bundling: false },
    );
    standard = synthApp({ stage: 'plain', stages: {} }, { bundling: false });
  }, 120_000);

  it('passes ADO_ALLOWED_ORIGINS to the functions that call Azure DevOps, and only to them', () => {
    const byService = allowedOriginsByService(withServer);
    // api: connection tests and the managed-items check; processor: type discovery and the creates.
    for (const service of ['api', 'processor']) {
      expect(byService[service], service).toBe(`${SERVER},https://tfs.corp.example:8443`);
    }
    // Issue 15: the streaming API and the finalizer never send a PAT anywhere.
    for (const service of ['api-stream', 'finalizer']) expect(byService[service], service).toBeUndefined();
  });

  it('leaves the variable out by default: only dev.azure.com and *.visualstudio.com', () => {
    const byService = allowedOriginsByService(standard);
    expect(Object.keys(byService).length).toBeGreaterThanOrEqual(4);
    for (const value of Object.values(byService)) expect(value).toBeUndefined();
  });

  it.each([
    ['plain http', 'http://ado.corp.example'],
    ['loopback (the Lambda runtime API)', 'https://127.0.0.1:9001'],
    ['localhost', 'https://localhost'],
    ['a path', 'https://ado.corp.example/tfs'],
    ['userinfo', 'https://user@ado.corp.example'],
    ['a wildcard', '*'],
  ])('refuses %s at config parse', (_label, origin) => {
    expect(() =>
      loadStageConfig({ stage: 'bad', stages: { bad: { ado: { allowedOrigins: [origin] } } } }),
    ).toThrow();
  });
});

/** `ardoq.*`: where an Ardoq token may go, and the hierarchy's type names: the API function's only. */
describe('stage keys ardoq.allowedOrigins and ardoq.hierarchyTypes', () => {
  const variable = (synth: SynthesizedApp, name: string): Record<string, string | undefined> => {
    const result: Record<string, string | undefined> = {};
    for (const fn of Object.values(synth.statelessTemplate.findResources('AWS::Lambda::Function'))) {
      const variables = (fn.Properties as { Environment?: { Variables?: Record<string, string> } })
        .Environment?.Variables;
      const service = variables?.POWERTOOLS_SERVICE_NAME;
      if (service) result[service] = variables?.[name];
    }
    return result;
  };

  it('reach the API function, and no other', () => {
    const synth = synthApp(
      {
        stage: 'ardoqstage',
        stages: {
          ardoqstage: {
            ardoq: {
              allowedOrigins: ['https://ardoq.corp.example'],
              hierarchyTypes: ['Area', 'Programme', 'Theme', 'Capability', 'Backlog Item'],
            },
          },
        },
      },
      { bundling: false },
    );
    expect(variable(synth, 'ARDOQ_ALLOWED_ORIGINS')).toEqual({
      api: 'https://ardoq.corp.example',
      'api-stream': undefined,
      processor: undefined,
      finalizer: undefined,
      migrate: undefined,
    });
    expect(variable(synth, 'ARDOQ_HIERARCHY_TYPES').api).toBe('Area,Programme,Theme,Capability,Backlog Item');
  });

  it.each([
    ['four type names', { hierarchyTypes: ['A', 'B', 'C', 'D'] }],
    ['a comma in a name', { hierarchyTypes: ['A,B', 'C', 'D', 'E', 'F'] }],
    ['plain http', { allowedOrigins: ['http://ardoq.corp.example'] }],
  ])('refuses %s at config parse', (_label, ardoq) => {
    expect(() => loadStageConfig({ stage: 'bad', stages: { bad: { ardoq } } })).toThrow();
  });
});
