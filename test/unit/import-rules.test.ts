import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#lib/constructs/sync-function.ts';

const run = promisify(execFile);
const DEPCRUISE = join(PROJECT_ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(PROJECT_ROOT, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** The violations dependency-cruiser finds under `dirs` of `cwd`, with the project's rules. */
async function violations(cwd: string, dirs: string[]): Promise<Violation[]> {
  const { stdout } = await run(DEPCRUISE, [...dirs, '--config', CONFIG, '--output-type', 'json'], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' })); // exits non-zero on a violation
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** The import rules of issue 15, enforced by `npm run lint` (dependency-cruiser) and here. */
describe('import rules', () => {
  it('hold for the whole tree', async () => {
    const found = await violations(PROJECT_ROOT, ['lambdas', 'sim', 'bin', 'lib']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 60_000);

  describe('catch each wrong arrow', () => {
    let dir: string;
    /** file → its one import; each line breaks one rule (or two files, a cycle). */
    const files: Record<string, string> = {
      'lambdas/core/pipeline/use-case.ts': "import '../../store/sync/statements.ts';",
      'lambdas/core/domain/model.ts':
        "import type { Row } from '../../store/sync/sync-row.ts';\nexport type M = Row;",
      'lambdas/core/ports/port.ts': "import '../pipeline/other.ts';",
      'lambdas/core/pipeline/other.ts': 'export const other = 1;',
      'lambdas/store/sync/statements.ts': "import '../../core/pipeline/other.ts';",
      'lambdas/store/sync/sync-row.ts': 'export type Row = { id: string };',
      'lambdas/runtime/settings.ts': "import '../api/app.ts';",
      'lambdas/api/app.ts': 'export const app = 1;',
      'lambdas/processor/handler.ts': "import '../../sim/ado/server.ts';",
      'sim/ado/server.ts': "import '../../lambdas/core/ports/port.ts';",
      'bin/local/system.ts': "import '../../lambdas/store/sync/statements.ts';",
      'lambdas/adapters/a.ts': "import './b.ts';",
      'lambdas/adapters/b.ts': "import './a.ts';",
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'import-rules-'));
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { allowImportingTsExtensions: true, module: 'NodeNext', noEmit: true },
        }),
      );
      for (const [file, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, file)), { recursive: true });
        await writeFile(join(dir, file), `${text}\n`);
      }
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('names the rule each one breaks', async () => {
      const found = (await violations(dir, ['lambdas', 'sim', 'bin'])).map(
        (v) => `${v.rule.name}: ${v.from}`,
      );
      expect(found.sort()).toEqual(
        [
          'core-speaks-to-ports: lambdas/core/pipeline/use-case.ts',
          'core-speaks-to-ports: lambdas/core/domain/model.ts', // a type-only import counts too
          'ports-speak-domain: lambdas/core/ports/port.ts',
          'adapters-below-the-core: lambdas/store/sync/statements.ts',
          'runtime-below-the-edges: lambdas/runtime/settings.ts',
          'lambdas-ship-alone: lambdas/processor/handler.ts',
          'sim-stands-alone: sim/ado/server.ts',
          'bin-writes-no-sql: bin/local/system.ts',
          'no-circular: lambdas/adapters/a.ts', // a cycle is reported once
        ].sort(),
      );
    }, 60_000);
  });
});
