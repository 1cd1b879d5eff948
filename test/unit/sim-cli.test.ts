import { describe, expect, it } from 'vitest';
import { numberOption } from '#sim/shared/cli.ts';

describe('numberOption (the simulators’ numeric flags)', () => {
  it('gives the fallback when absent or empty, else the number', () => {
    expect(numberOption('port', undefined, 8081)).toBe(8081);
    expect(numberOption('port', '', 8081)).toBe(8081);
    expect(numberOption('drop-rate', '0.25', 0, { max: 1 })).toBe(0.25);
  });

  it('refuses what is out of range or not whole when it must be, naming the flag', () => {
    expect(() => numberOption('drop-rate', '2', 0, { max: 1 })).toThrow(
      '--drop-rate must be a number between 0 and 1, got "2"',
    );
    expect(() => numberOption('page-size', '0', 100, { min: 1, max: 10_000, integer: true })).toThrow(
      /--page-size must be a whole number between 1 and 10000/,
    );
    expect(() => numberOption('seed', '1.5', 1, { integer: true })).toThrow(/whole number/);
    expect(() => numberOption('latency-ms', 'abc', 0)).toThrow(/--latency-ms/);
    expect(() => numberOption('latency-ms', '-1', 0)).toThrow(/between 0/);
  });
});
