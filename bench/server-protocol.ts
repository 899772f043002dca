/** Messages between bench/run.ts and a server child (bench/server.ts). */
export type ParentRequest = { type: 'usage' } | { type: 'stop' };

export type ChildReport =
  | { type: 'listening'; port: number }
  | { type: 'usage'; cpuMicros: number; rss: number; maxRss: number };

export interface Usage {
  readonly cpuMicros: number;
  readonly rss: number;
  readonly maxRss: number;
}
