import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { round } from './stats.ts';

/** A target a figure must meet: at most (`<=`) or at least (`>=`) `value`. */
export interface Target {
  op: '<=' | '>=';
  value: number;
}

/** One measured number, with the workload it comes from and its target. */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  workload: string;
  target?: Target;
  /** true/false when there is a target and a value; null otherwise. */
  meets: boolean | null;
  note?: string;
}

/** What one benchmark section produced: its figures, free-form details, or why it did not run. */
export interface SectionResult {
  id: string;
  title: string;
  status: 'ok' | 'skipped' | 'error';
  durationMs: number;
  figures: Figure[];
  /** Evidence printed under the table (breakdowns, EXPLAIN plans). */
  details: string[];
  /** Machine-readable extras for bench-results.json. */
  data?: Record<string, unknown>;
  error?: string;
}

export function figure(
  name: string,
  value: number | null,
  unit: string,
  workload: string,
  target?: Target,
  note?: string,
): Figure {
  const meets =
    target && value !== null && Number.isFinite(value)
      ? target.op === '<='
        ? value <= target.value
        : value >= target.value
      : null;
  return {
    name,
    value: value === null ? null : round(value, 3),
    unit,
    workload,
    ...(target ? { target } : {}),
    meets,
    ...(note ? { note } : {}),
  };
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  node: string;
  database: string;
}

export function machineInfo(database: string): MachineInfo {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    os: `${platform()} ${release()}`,
    node: process.version,
    database,
  };
}

const formatValue = (f: Figure): string => {
  if (f.value === null) return '—';
  const v = Math.abs(f.value) >= 100 ? round(f.value, 0) : round(f.value, 2);
  return `${v.toLocaleString('en-US')} ${f.unit}`.trim();
};

const formatTarget = (f: Figure): string =>
  f.target ? `${f.target.op === '<=' ? '≤' : '≥'} ${f.target.value.toLocaleString('en-US')} ${f.unit}` : '';

const verdict = (f: Figure): string => (f.meets === null ? '' : f.meets ? 'MEETS' : 'MISSED');

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The printed report: per section its workload lines, then figure | value | target | verdict. */
export function renderSection(section: SectionResult): string {
  const lines: string[] = [];
  const took = `${round(section.durationMs / 1000, 1)} s`;
  lines.push(`== ${section.id}. ${section.title} [${section.status}, ${took}]`);
  if (section.error) lines.push(`   ${section.status === 'skipped' ? '' : 'ERROR: '}${section.error}`);
  const workloads = [...new Set(section.figures.map((f) => f.workload))];
  for (const workload of workloads) {
    const rows = section.figures.filter((f) => f.workload === workload);
    lines.push(`   workload: ${workload}`);
    const w0 = Math.max(6, ...rows.map((f) => f.name.length));
    const w1 = Math.max(5, ...rows.map((f) => formatValue(f).length));
    const w2 = Math.max(6, ...rows.map((f) => formatTarget(f).length));
    lines.push(`     ${pad('figure', w0)} | ${pad('value', w1)} | ${pad('target', w2)} | verdict`);
    lines.push(`     ${'-'.repeat(w0)}-+-${'-'.repeat(w1)}-+-${'-'.repeat(w2)}-+--------`);
    for (const f of rows) {
      const note = f.note ? `  (${f.note})` : '';
      lines.push(
        `     ${pad(f.name, w0)} | ${pad(formatValue(f), w1)} | ${pad(formatTarget(f), w2)} | ${verdict(f)}${note}`,
      );
    }
  }
  for (const detail of section.details) {
    for (const line of detail.split('\n')) lines.push(`   ${line}`);
  }
  return lines.join('\n');
}

/** The closing summary: every missed target, one line each. */
export function renderSummary(sections: readonly SectionResult[], totalMs: number): string {
  const missed = sections.flatMap((s) =>
    s.figures.filter((f) => f.meets === false).map((f) => ({ section: s, f })),
  );
  const met = sections.flatMap((s) => s.figures.filter((f) => f.meets === true));
  const lines = [
    `== Summary: ${met.length} target(s) met, ${missed.length} missed; whole bench ${round(totalMs / 1000, 1)} s`,
  ];
  for (const { section, f } of missed) {
    lines.push(
      `   MISSED ${section.id}. ${f.name}: ${formatValue(f)} (target ${formatTarget(f)}) — ${f.workload}`,
    );
  }
  for (const s of sections.filter((x) => x.status !== 'ok')) {
    lines.push(`   ${s.status.toUpperCase()} ${s.id}. ${s.title}: ${s.error ?? ''}`);
  }
  return lines.join('\n');
}
