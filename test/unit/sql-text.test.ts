import { describe, expect, it } from 'vitest';
import { compileNamedParameters, SqlSyntaxError, splitStatements } from '#store/sql-text.ts';

describe('splitStatements', () => {
  it('splits on top-level semicolons and drops empty and comment-only statements', () => {
    expect(splitStatements('SELECT 1;\n\n  SELECT 2 ;;\n-- trailing comment\n')).toEqual([
      'SELECT 1',
      'SELECT 2',
    ]);
  });

  it('keeps semicolons inside $$ and $tag$ bodies, quotes, identifiers and comments', () => {
    const sql = `
      CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'a;b'; RETURN NEW; END; $$;
      CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'x;y' $body$;
      SELECT 'it''s; fine', "odd;name", E'esc\\'; still' FROM t; -- a; comment
      /* block; /* nested; */ still comment; */ SELECT 3`;
    const statements = splitStatements(sql);
    expect(statements).toHaveLength(4);
    expect(statements[0]).toMatch(/^CREATE FUNCTION f\(\).*END; \$\$$/s);
    expect(statements[1]).toMatch(/\$body\$ SELECT 'x;y' \$body\$$/);
    expect(statements[2]).toBe(`SELECT 'it''s; fine', "odd;name", E'esc\\'; still' FROM t`);
    expect(statements[3]).toMatch(/SELECT 3$/);
  });

  it('does not mistake positional parameters or identifiers with $ for dollar quotes', () => {
    expect(splitStatements('SELECT $1, a$b$ FROM t; SELECT 2')).toEqual([
      'SELECT $1, a$b$ FROM t',
      'SELECT 2',
    ]);
  });

  it('fails on an unterminated dollar body instead of guessing', () => {
    expect(() => splitStatements('SELECT $$ open; SELECT 1')).toThrow(SqlSyntaxError);
    expect(() => splitStatements("SELECT 'open")).toThrow(SqlSyntaxError);
  });
});

describe('compileNamedParameters', () => {
  it('numbers names in order of first use and reuses the number for a repeated name', () => {
    expect(compileNamedParameters('SELECT :b, :a, :b')).toEqual({
      text: 'SELECT $1, $2, $1',
      names: ['b', 'a'],
    });
  });

  it('leaves casts, literals, identifiers and comments alone', () => {
    const sql = `SELECT :x::jsonb, ':y', ":z", $$ :w $$ -- :v\n, CAST(:u AS int) /* :t */`;
    expect(compileNamedParameters(sql)).toEqual({
      text: `SELECT $1::jsonb, ':y', ":z", $$ :w $$ -- :v\n, CAST($2 AS int) /* :t */`,
      names: ['x', 'u'],
    });
  });
});
