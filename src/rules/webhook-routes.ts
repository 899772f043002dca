/**
 * The webhook routes, derived from the rule registry: every served kind some rule judges, with
 * the operations it judges, at /validate; the kinds rules change (`mutation`) and netguard's
 * GuardrailException bookkeeping at /mutate. deploy/base/webhooks.yaml registers exactly these
 * (test/architecture/webhook-routes.test.ts), so a rule for a new kind or operation fails that
 * test until the API server is told to send it.
 */
import type { Rule } from '../engine/types.ts';
import { BOOKKEEPING } from '../mutation/exception-requester.ts';
import { SERVED_KINDS, type KindScope } from '../model/kinds.ts';
import type { Operation } from '../vocabulary.ts';
import { RULES } from './registry.ts';

export interface WebhookRoute {
  /** The webhook's name in deploy/ (Pods have their own, fail-open). */
  readonly webhook: string;
  /** The server's path it calls. */
  readonly path: '/validate' | '/mutate';
  readonly group: string;
  readonly versions: readonly string[];
  readonly resource: string;
  readonly scope: KindScope;
  /** Sorted. */
  readonly operations: readonly Operation[];
}

/** Pods are mostly written by controllers replacing admitted workloads: their webhook fails open. */
const validatingWebhookOf = (kind: string): string =>
  kind === 'Pod' ? 'pods.validate.netguard.dev' : 'validate.netguard.dev';

interface Judged {
  readonly kind: string;
  readonly operations: readonly Operation[];
}

function routesOf(
  path: WebhookRoute['path'],
  webhookOf: (kind: string) => string,
  judged: readonly Judged[],
): WebhookRoute[] {
  const routes = new Map<string, WebhookRoute>();
  for (const { kind, operations } of judged) {
    for (const row of SERVED_KINDS.filter((served) => served.judgedAs === kind)) {
      const webhook = webhookOf(kind);
      const key = `${webhook} ${row.group} ${row.resource}`;
      const known = routes.get(key);
      routes.set(key, {
        webhook,
        path,
        group: row.group,
        versions: [...new Set([...(known?.versions ?? []), ...row.versions])],
        resource: row.resource,
        scope: row.scope,
        operations: [...new Set([...(known?.operations ?? []), ...operations])].sort(),
      });
    }
  }
  return [...routes.values()];
}

/** The routes a rule list asks for (the shipped one: `WEBHOOK_ROUTES`). */
export function webhookRoutes(rules: readonly Rule[]): WebhookRoute[] {
  const validated = rules.flatMap((rule) =>
    rule.kinds.map((kind) => ({ kind, operations: rule.operations })),
  );
  const mutated = [
    ...rules.flatMap((rule) =>
      rule.mutation === undefined
        ? []
        : rule.kinds.map((kind) => ({ kind, operations: rule.mutation?.operations ?? [] })),
    ),
    BOOKKEEPING,
  ];
  return [
    ...routesOf('/validate', validatingWebhookOf, validated),
    ...routesOf('/mutate', () => 'mutate.netguard.dev', mutated),
  ].filter((route) => route.operations.length > 0);
}

export const WEBHOOK_ROUTES: readonly WebhookRoute[] = webhookRoutes(RULES);
