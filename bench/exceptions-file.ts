import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The waiver the "Pod waived" scenario relies on; expiry inside production's 14d limit, outside warnBefore. */
export function writeExceptionsFile(dir: string, now: Date): string {
  const expires = new Date(now.getTime() + 10 * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const path = join(dir, 'exceptions.yaml');
  writeFileSync(
    path,
    `# Written by bench/run.ts for the "Pod waived" scenario.
apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-labels, namespace: prod-crawl}
spec:
  rules: [POD001]
  target: {kind: Pod, selector: {matchLabels: {app: crawler}}}
  reason: Crawler pods get their tier label with the Q1 chart migration
  owner: team-crawl@example.com
  ticket: CRAWL-1234
  expires: "${expires}"
  requestedBy: alice@example.com
  approvedBy: carol@example.com
`,
  );
  return path;
}
