import type { SqlParam, SqlParams } from '#store/database.ts';
import { isTypedParam } from '#store/database.ts';
import { compileNamedParameters } from '#store/sql-text.ts';

/** Positional form of a `:name` statement, for drivers that speak `$n` (node-postgres, PGlite). */
export function toPositional(sql: string, params: SqlParams = {}): { text: string; values: unknown[] } {
  const { text, names } = compileNamedParameters(sql);
  const values = names.map((name) => {
    if (!Object.hasOwn(params, name)) throw new Error(`missing SQL parameter :${name}`);
    return toDriverValue(params[name] as SqlParam);
  });
  return { text, values };
}

function toDriverValue(value: SqlParam): unknown {
  if (!isTypedParam(value)) return value;
  return value.kind === 'json' ? JSON.stringify(value.value) : value.value;
}
