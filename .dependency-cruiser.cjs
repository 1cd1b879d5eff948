/**
 * The import rules of the layout (README "Code layout"), checked by `npm run lint` and by a test
 * (test/unit/import-rules.test.ts), so a wrong arrow fails CI.
 *
 *   lambdas/core     the domain and its use cases; speaks to ports only (no SQL, no AWS SDK)
 *   lambdas/store    the SQL adapter of the storage ports, over the Database port
 *   lambdas/adapters Azure DevOps, SQS, secrets, database drivers
 *   lambdas/runtime  per-function plumbing (settings, clients, logs)
 *   lambdas/<fn>     api, stream, processor, finalizer, migrate: the edges, one per Lambda function
 *   sim/             simulators: product parts for `npm start` and the tests, never for a Lambda
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-speaks-to-ports',
      comment:
        'The core (domain, use cases) imports only the core: its ports, its domain, zod and Node built-ins. SQL, drivers, the AWS SDK and the edges live outside.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { pathNot: ['^lambdas/core/', '(^|/)node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ports-speak-domain',
      comment: 'A port names domain types and verbs, never a use case.',
      severity: 'error',
      from: { path: '^lambdas/core/ports/' },
      to: {
        path: '^lambdas/core/',
        pathNot: ['^lambdas/core/(ports|domain)/', '^lambdas/core/errors\\.ts$'],
      },
    },
    {
      name: 'adapters-below-the-core',
      comment:
        'Store and adapters implement ports: they may import core/ports, core/domain and core/errors, never a use case, an edge or the runtime.',
      severity: 'error',
      from: { path: '^lambdas/(adapters|store)/' },
      to: {
        path: '^lambdas/',
        pathNot: [
          '^lambdas/(adapters|store)/',
          '^lambdas/core/(ports|domain)/',
          '^lambdas/core/errors\\.ts$',
        ],
      },
    },
    {
      name: 'runtime-below-the-edges',
      comment:
        'Per-function plumbing never points up to an edge (api, stream, processor, finalizer, migrate).',
      severity: 'error',
      from: { path: '^lambdas/runtime/' },
      to: { path: '^lambdas/(api|stream|processor|finalizer|migrate)/' },
    },
    {
      name: 'lambdas-ship-alone',
      comment:
        'A Lambda bundle never contains a simulator, a test, a benchmark, the local runtime or the CDK app.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(sim|test|bench|bin|lib)/' },
    },
    {
      name: 'sim-stands-alone',
      comment: 'A simulator follows the public contract of the service it stands for, not our code.',
      severity: 'error',
      from: { path: '^sim/' },
      to: { path: '^(lambdas|test|bench|bin|lib)/' },
    },
    {
      name: 'bin-writes-no-sql',
      comment: 'The local runtime wires stores; statements stay in lambdas/store.',
      severity: 'error',
      from: { path: '^bin/' },
      to: { path: '^lambdas/store/(sync/statements|sql-text|history/page-statement)\\.ts$' },
    },
    {
      name: 'no-dev-dependency-in-lambdas',
      comment: 'What a function imports at run time must be a production dependency.',
      severity: 'error',
      from: { path: '^(lambdas|sim)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make the layers meaningless.',
      severity: 'error',
      from: { path: '^(lambdas|sim|bin|lib)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
