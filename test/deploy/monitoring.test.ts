import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { Registry } from 'prom-client';
import { registerControllerMetrics } from '../../src/controller-health.ts';
import { createMetrics } from '../../src/metrics.ts';

type Obj = Record<string, any>;

/** Every series name createMetrics registers, with the _bucket/_sum/_count series of histograms. */
async function registered(): Promise<Set<string>> {
  const controller = new Registry();
  registerControllerMetrics(controller, () => undefined);
  const metrics = [
    ...(await createMetrics().registry.getMetricsAsJSON()),
    ...(await controller.getMetricsAsJSON()),
  ];
  return new Set(
    metrics.flatMap((m) =>
      String(m.type) === 'histogram'
        ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
        : [m.name],
    ),
  );
}

// Series from elsewhere: Prometheus itself and the API server.
const EXTERNAL = [/^up$/, /^apiserver_admission_webhook_[a-z_]+$/];
const PROMQL_WORDS = new Set([
  'sum',
  'by',
  'rate',
  'increase',
  'max',
  'min',
  'and',
  'or',
  'unless',
  'histogram_quantile',
  'topk',
  'offset',
  'without',
  'le',
  'on',
  'ignoring',
  'time',
  'vector',
  'pod',
]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, label names or strings. */
function metricNames(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const noLabels = noStrings
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const noRanges = noLabels.replace(/\[[^\]]*\]/g, '[]');
  return [...noRanges.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1] ?? '')
    .filter((name) => name === 'up' || (!PROMQL_WORDS.has(name) && name.includes('_')));
}

function balanced(expr: string): boolean {
  let depth = 0;
  for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('({['.includes(ch)) depth += 1;
    if (')}]'.includes(ch)) depth -= 1;
    if (depth < 0) return false;
  }
  return depth === 0;
}

const rules = parseAllDocuments(readFileSync('deploy/monitoring/prometheusrule.yaml', 'utf8')).map(
  (d) => d.toJS() as Obj,
)[0];
const dashboard = JSON.parse(readFileSync('docs/grafana/netguard-dashboard.json', 'utf8')) as Obj;

t.test(
  'the PrometheusRule alerts on errors, latency, denial spikes and waivers, each well formed',
  async (t) => {
    t.equal(rules?.kind, 'PrometheusRule');
    const alerts: Obj[] = rules?.spec.groups.flatMap((g: Obj) => g.rules);
    t.same(
      alerts.map((a) => a.alert),
      [
        'NetguardDown',
        'NetguardWebhookErrors',
        'NetguardSlowReviews',
        'NetguardConfigReloadFailing',
        'NetguardDenialSpike',
        'NetguardWaiverExpiresSoon',
        'NetguardEnvironmentWaiverExpiresSoon',
        'NetguardWaiverExpired',
        'NetguardControllerStalled',
        'NetguardControllerNoLeader',
      ],
    );
    for (const alert of alerts) {
      t.ok(balanced(alert.expr), `${alert.alert}: brackets balance`);
      t.match(alert.labels.severity, /^(critical|warning|info)$/, `${alert.alert}: severity`);
      t.ok(
        alert.annotations.summary && alert.annotations.description,
        `${alert.alert}: summary and description`,
      );
    }
  },
);

t.test(
  'every metric the alerts and the dashboard name exists (src/metrics.ts, or a known outside source)',
  async (t) => {
    const known = await registered();
    const exprs: [string, string][] = [
      ...rules?.spec.groups.flatMap((g: Obj) =>
        g.rules.map((r: Obj) => [`alert ${r.alert}`, r.expr]),
      ),
      ...dashboard.panels.flatMap((p: Obj) =>
        p.targets.map((target: Obj) => [`panel "${p.title}"`, target.expr]),
      ),
      ...dashboard.templating.list
        .filter((v: Obj) => v.type === 'query')
        .map((v: Obj) => [`variable ${v.name}`, v.query]),
    ];
    t.ok(exprs.length >= 15);
    const named = new Set<string>();
    for (const [where, expr] of exprs) {
      const names = metricNames(expr);
      t.ok(names.length > 0, `${where} names a metric`);
      for (const name of names) {
        named.add(name);
        t.ok(known.has(name) || EXTERNAL.some((re) => re.test(name)), `${where}: ${name} exists`);
      }
    }
    t.notOk(
      metricNames('rate(netguard_no_such_metric_total[5m])').every((n) => known.has(n)),
      'the check can fail',
    );
    for (const core of [
      'netguard_admission_reviews_total',
      'netguard_admission_review_duration_seconds_bucket',
      'netguard_findings_total',
      'netguard_waivers',
    ]) {
      t.ok(named.has(core), `${core} is watched`);
    }
    t.ok(
      exprs.some(
        ([, expr]) => expr.includes('netguard_findings_total') && expr.includes('namespace'),
      ),
      'findings by namespace on the dashboard',
    );
  },
);

t.test(
  "the ServiceMonitor scrapes the Service's metrics port; kustomize renders deploy/monitoring",
  {
    skip:
      spawnSync('kubectl', ['version', '--client']).error === undefined
        ? false
        : 'kubectl not installed',
  },
  async (t) => {
    const rendered = parseAllDocuments(
      spawnSync('kubectl', ['kustomize', 'deploy/monitoring'], { encoding: 'utf8' }).stdout,
    ).map((d) => d.toJS() as Obj);
    const monitor = rendered.find((o) => o.kind === 'ServiceMonitor');
    const base = parseAllDocuments(
      spawnSync('kubectl', ['kustomize', 'deploy/'], { encoding: 'utf8' }).stdout,
    ).map((d) => d.toJS() as Obj);
    const service = base.find((o) => o.kind === 'Service');
    t.equal(monitor?.metadata.namespace, 'netguard-system');
    t.same(
      Object.entries(monitor?.spec.selector.matchLabels ?? {}).every(
        ([k, v]) => service?.metadata.labels[k] === v,
      ),
      true,
      'selects the Service',
    );
    t.ok(
      service?.spec.ports.some(
        (p: Obj) => p.name === monitor?.spec.endpoints[0].port && p.port === 9090,
      ),
    );
    t.ok(
      rendered.some(
        (o) => o.kind === 'PrometheusRule' && o.metadata.namespace === 'netguard-system',
      ),
    );
  },
);
