import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { createMetrics } from '../../src/metrics.ts';

interface Alert {
  readonly alert: string;
  readonly expr: string;
}

const rule = parseAllDocuments(
  readFileSync('deploy/monitoring/prometheusrule.yaml', 'utf8'),
)[0]?.toJS() as {
  spec: { groups: { rules: Alert[] }[] };
};
const ALERTS = rule.spec.groups.flatMap((group) => group.rules);

interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The Prometheus text exposition as series (comments skipped). */
function seriesOf(exposition: string): Series[] {
  return exposition
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
      const labels: Record<string, string> = {};
      for (const pair of (match?.[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
        labels[pair[1] ?? ''] = pair[2] ?? '';
      return { name: match?.[1] ?? '', labels };
    });
}

/** `fn(name{a="x", b=~"y"}[5m])`: each netguard_* selector directly inside `fn(`, with its matchers. */
function selectorsIn(
  expr: string,
  fn: string,
): { name: string; matchers: [string, string, string][] }[] {
  const re = new RegExp(`${fn}\\((netguard_\\w+)(?:\\{([^}]*)\\})?`, 'g');
  return [...expr.matchAll(re)].map((m) => ({
    name: m[1] ?? '',
    matchers: [...(m[2] ?? '').matchAll(/(\w+)\s*(=~|!=|=)\s*"([^"]*)"/g)].map(
      (x) => [x[1] ?? '', x[2] ?? '', x[3] ?? ''] as [string, string, string],
    ),
  }));
}

const matches = (series: Series, selector: ReturnType<typeof selectorsIn>[number]): boolean =>
  series.name === selector.name &&
  selector.matchers.every(([label, op, value]) => {
    const actual = series.labels[label] ?? '';
    if (op === '=') return actual === value;
    if (op === '!=') return actual !== value;
    return new RegExp(`^(?:${value})$`).test(actual);
  });

t.test(
  'every counter an alert takes increase() of exists at 0 from the first scrape',
  async (t) => {
    const fresh = seriesOf(await createMetrics({ processMetrics: false }).registry.metrics());
    const increased = ALERTS.flatMap((alert) =>
      selectorsIn(alert.expr, 'increase').map((selector) => ({ alert: alert.alert, selector })),
    );
    t.ok(increased.length > 0, 'some alert counts increases');
    for (const { alert, selector } of increased)
      t.ok(
        fresh.some((series) => matches(series, selector)),
        `${alert}: ${selector.name}{${selector.matchers.map((m) => m.join('')).join(',')}} is exported before the first event`,
      );
    t.same(
      fresh
        .filter((series) => series.name === 'netguard_config_reloads_total')
        .map((series) => `${series.labels['file']} ${series.labels['result']}`)
        .sort(),
      ['exceptions failure', 'exceptions success', 'policy failure', 'policy success'],
    );
    const sample = selectorsIn(
      'increase(netguard_config_reloads_total{result="failed"}[5m])',
      'increase',
    )[0];
    t.notOk(
      sample !== undefined && fresh.some((series) => matches(series, sample)),
      'the check can fail: a result the server never exports matches nothing',
    );
  },
);

t.test(
  'NetguardDown fires with no targets at all: absent() of an up series, not sum(up) == 0',
  async (t) => {
    const down = ALERTS.find((alert) => alert.alert === 'NetguardDown');
    t.match(down?.expr, /^absent\(up\{job="netguard"\} == 1\)$/);
    t.notMatch(down?.expr, /sum\(/, 'a sum over no series is no series, which never fires');
    // up's job label is the Service name the ServiceMonitor scrapes through.
    const service = parseAllDocuments(readFileSync('deploy/base/service.yaml', 'utf8'))
      .map((doc) => doc.toJS() as { kind: string; metadata: { name: string } })
      .find((object) => object.kind === 'Service');
    t.equal(service?.metadata.name, 'netguard');
  },
);

t.test(
  'the ServiceMonitor and PrometheusRule carry the release label kube-prometheus-stack selects on',
  {
    skip:
      spawnSync('kubectl', ['version', '--client']).error === undefined
        ? false
        : 'kubectl not installed',
  },
  async (t) => {
    const rendered = parseAllDocuments(
      spawnSync('kubectl', ['kustomize', 'deploy/monitoring'], { encoding: 'utf8' }).stdout,
    ).map((doc) => doc.toJS() as { kind: string; metadata: { labels?: Record<string, string> } });
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      const object = rendered.find((o) => o.kind === kind);
      t.equal(object?.metadata.labels?.['release'], 'kube-prometheus-stack', kind);
    }
    t.match(readFileSync('docs/observability.md', 'utf8'), 'serviceMonitorSelector');
  },
);
