import type { TransportFault } from './faults.ts';

/** A request as the simulator's routes see it. */
export interface RouteRequest {
  method: string;
  /** The decoded segment before `_apis` (project name or id), if any. */
  project?: string;
  /** Decoded segments after `_apis`. */
  rest: string[];
  query: URLSearchParams;
  contentType: string;
  body: string;
}

export type Outcome =
  | { status: number; json: unknown; drop?: boolean; headers?: Record<string, string> }
  | { fault: TransportFault };
