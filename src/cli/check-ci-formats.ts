/**
 * `netguard check` in the formats CI systems read: SARIF 2.1.0 (GitHub code scanning), JUnit XML
 * (GitLab, Jenkins) and GitHub Actions workflow commands. Each names file and line per finding.
 */
import { createHash } from 'node:crypto';
import { relative, resolve, sep } from 'node:path';
import type { Finding } from '../engine/types.ts';
import { VERSION } from '../package-info.ts';
import { RULES } from '../rules/registry.ts';
import { describeLocation, STDIN, type ManifestError } from '../manifests.ts';
import { findingText, summaryOf, type CheckReport, type CheckResult } from './check-output.ts';

const INFORMATION_URI = 'https://github.com/netguard-dev/netguard';
const RULES_DOC = `${INFORMATION_URI}/blob/main/docs/rules.md`;

/** Paths as repository-relative URIs with forward slashes, as code scanning matches them. */
function artifactUri(file: string): string {
  if (file === STDIN) return 'stdin';
  return relative(process.cwd(), resolve(file)).split(sep).join('/');
}

const objectName = ({ decision }: CheckResult): string =>
  `${decision.kind} ${decision.namespace === '' ? decision.name : `${decision.namespace}/${decision.name}`}`;

// ---------------------------------------------------------------------------------------- SARIF

function sarifLevel(finding: Finding): 'error' | 'warning' | 'note' {
  if (finding.waivedBy !== undefined) return 'note';
  return finding.level === 'deny' ? 'error' : 'warning';
}

function sarifRules(): object[] {
  return RULES.map((rule) => ({
    id: rule.id,
    name: rule.name,
    shortDescription: { text: `${rule.id} ${rule.name}` },
    ...(rule.doc.checks === ''
      ? {}
      : { fullDescription: { text: rule.doc.checks }, help: { text: rule.doc.fix } }),
    helpUri: `${RULES_DOC}#${rule.id.toLowerCase()}-${rule.name}`,
    defaultConfiguration: { level: rule.levels.enforce === 'deny' ? 'error' : 'warning' },
  }));
}

/**
 * Stable across runs and distinct per finding: the object (group, version, kind, namespace, name),
 * rule, field and what is wrong, plus an ordinal among findings that agree on all of those. Line
 * numbers and dates stay out, so moving an object in its file or re-running tomorrow keeps it.
 */
export function findingFingerprints(result: CheckResult): string[] {
  const seen = new Map<string, number>();
  const object = result.manifest.object;
  return result.decision.findings.map((finding) => {
    const key = [
      String(object['apiVersion']),
      objectName(result),
      finding.rule,
      finding.path,
      finding.message,
    ].join('\u0000');
    const ordinal = seen.get(key) ?? 0;
    seen.set(key, ordinal + 1);
    return createHash('sha256').update(`${key}\u0000${ordinal}`).digest('hex');
  });
}

function sarifResult(
  result: CheckResult,
  finding: Finding,
  fingerprint: string,
  ruleIndex: Map<string, number>,
): object {
  const { manifest, decision } = result;
  const index = ruleIndex.get(finding.rule);
  const waived = finding.waivedBy;
  return {
    ruleId: finding.rule,
    ...(index === undefined ? {} : { ruleIndex: index }),
    level: sarifLevel(finding),
    message: { text: `${objectName(result)} at ${finding.path}: ${findingText(finding)}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(manifest.file), uriBaseId: '%SRCROOT%' },
          region: { startLine: manifest.source.lineOf(finding.path) },
        },
        logicalLocations: [
          { fullyQualifiedName: `${objectName(result)}/${finding.path}`, kind: 'member' },
        ],
      },
    ],
    partialFingerprints: { 'netguardFinding/v2': fingerprint },
    properties: {
      environment: decision.environment ?? null,
      mode: decision.mode ?? null,
      verdict: decision.allowed ? 'allowed' : 'denied',
    },
    ...(waived === undefined
      ? {}
      : {
          suppressions: [
            {
              kind: 'external',
              status: 'accepted',
              justification: `waived by GuardrailException ${waived.namespace}/${waived.name} until ${waived.expires}`,
            },
          ],
        }),
  };
}

function notification(
  text: string,
  level: 'error' | 'warning' | 'note',
  error?: ManifestError,
): object {
  const where =
    error === undefined
      ? {}
      : {
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(error.file), uriBaseId: '%SRCROOT%' },
                ...(error.line === undefined ? {} : { region: { startLine: error.line } }),
              },
            },
          ],
        };
  return { message: { text }, level, ...where };
}

export function renderSarif(report: CheckReport): string {
  const rules = sarifRules();
  const ruleIndex = new Map(RULES.map((rule, index) => [rule.id, index]));
  const results = report.results.flatMap((result) => {
    const fingerprints = findingFingerprints(result);
    return result.decision.findings.map((finding, index) =>
      sarifResult(result, finding, fingerprints[index] ?? '', ruleIndex),
    );
  });
  const notifications = [
    ...report.errors.map((error) =>
      notification(`${describeLocation(error)}: ${error.problem}`, 'error', error),
    ),
    ...report.guesses.map((text) => notification(text, 'warning')),
    ...report.notes.map((text) => notification(text, 'note')),
  ];
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'netguard',
            version: VERSION,
            semanticVersion: VERSION,
            informationUri: INFORMATION_URI,
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: `${pathToUri(process.cwd())}/` } },
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: notifications,
          },
        ],
        results,
        properties: { policy: report.policy, summary: summaryOf(report.results) },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

const pathToUri = (path: string): string =>
  `file://${path.split(sep).map(encodeURIComponent).join('/')}`;

// ---------------------------------------------------------------------------------------- JUnit

const XML_INVALID = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]/g;
const xml = (text: string): string =>
  text
    .replace(XML_INVALID, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

function findingLine(result: CheckResult, finding: Finding): string {
  const line = result.manifest.source.lineOf(finding.path);
  return `${finding.level} ${finding.rule} ${finding.name} at ${finding.path} (${result.manifest.file}:${line}): ${findingText(finding)}`;
}

/**
 * jenkins: `file` on each <testsuite> (one per input file), as the Jenkins xUnit junit-10.xsd allows;
 * gitlab: `file` and `line` on each <testcase>, which GitLab reads to link a failure to its file.
 */
export const JUNIT_FLAVORS = ['jenkins', 'gitlab'] as const;
export type JunitFlavor = (typeof JUNIT_FLAVORS)[number];

const caseLocation = (flavor: JunitFlavor, file: string, line: number | undefined): string =>
  flavor === 'gitlab'
    ? ` file="${xml(artifactUri(file))}"${line === undefined ? '' : ` line="${line}"`}`
    : '';

/** One testcase per object: a denial is a failure, warnings go to system-out. */
function junitCase(result: CheckResult, flavor: JunitFlavor): string {
  const { manifest, decision } = result;
  const head = `    <testcase classname="${xml(`netguard.${decision.kind}`)}" name="${xml(objectName(result))}"${caseLocation(flavor, manifest.file, manifest.source.line)}>`;
  const denies = decision.findings.filter((finding) => finding.level === 'deny');
  const lines = [head];
  if (!decision.allowed) {
    const rules = [...new Set(denies.map((finding) => finding.rule))].join(',');
    lines.push(
      `      <failure message="${xml(`${objectName(result)} would be denied (${decision.environment ?? ''}, ${decision.mode ?? ''}): ${rules}`)}" type="${xml(rules)}">`,
    );
    lines.push(
      xml(denies.map((finding) => findingLine(result, finding)).join('\n')),
      '      </failure>',
    );
  } else if (decision.skipped !== undefined)
    lines.push('      <skipped message="excluded namespace"/>');
  const warnings = decision.findings.filter((finding) => finding.level === 'warn');
  if (warnings.length > 0)
    lines.push(
      `      <system-out>${xml(warnings.map((finding) => findingLine(result, finding)).join('\n'))}</system-out>`,
    );
  lines.push('    </testcase>');
  return lines.join('\n');
}

function junitError(error: ManifestError, flavor: JunitFlavor): string {
  return [
    `    <testcase classname="netguard.input" name="${xml(describeLocation(error))}"${caseLocation(flavor, error.file, error.line)}>`,
    `      <error message="${xml(error.problem)}" type="InputError"/>`,
    '    </testcase>',
  ].join('\n');
}

/** One testsuite per input file, in input order, each carrying the policy (no suite without tests). */
export function renderJunit(report: CheckReport, flavor: JunitFlavor = 'jenkins'): string {
  const files = [
    ...new Set([
      ...report.results.map((result) => result.manifest.file),
      ...report.errors.map((error) => error.file),
    ]),
  ];
  const properties = [
    '    <properties>',
    `      <property name="policy" value="${xml(report.policy)}"/>`,
    ...report.guesses.map((text) => `      <property name="warning" value="${xml(text)}"/>`),
    '    </properties>',
  ];
  const suites = files.map((file) => {
    const results = report.results.filter((result) => result.manifest.file === file);
    const errors = report.errors.filter((error) => error.file === file);
    const failures = results.filter((result) => !result.decision.allowed).length;
    const skipped = results.filter((result) => result.decision.skipped !== undefined).length;
    const where = flavor === 'jenkins' ? ` file="${xml(artifactUri(file))}"` : '';
    return [
      `  <testsuite name="${xml(artifactUri(file))}" tests="${results.length + errors.length}" failures="${failures}" errors="${errors.length}" skipped="${skipped}"${where}>`,
      ...properties,
      ...results.map((result) => junitCase(result, flavor)),
      ...errors.map((error) => junitError(error, flavor)),
      '  </testsuite>',
    ].join('\n');
  });
  const summary = summaryOf(report.results);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="netguard check" tests="${summary.objects + report.errors.length}" failures="${summary.denied}" errors="${report.errors.length}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

// ------------------------------------------------------------------------- GitHub Actions commands

// https://docs.github.com/actions/reference/workflow-commands-for-github-actions: data and properties escapes.
const ghData = (text: string): string =>
  text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProperty = (text: string): string => ghData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

function annotation(
  command: 'error' | 'warning' | 'notice',
  message: string,
  where: { file?: string; line?: number; title?: string },
): string {
  const props = [
    where.file === undefined ? '' : `file=${ghProperty(artifactUri(where.file))}`,
    where.line === undefined ? '' : `line=${where.line}`,
    where.title === undefined ? '' : `title=${ghProperty(where.title)}`,
  ].filter((prop) => prop !== '');
  return `::${command}${props.length > 0 ? ` ${props.join(',')}` : ''}::${ghData(message)}`;
}

export function renderGithub(report: CheckReport): string {
  const lines = [`netguard check: policy ${report.policy}`];
  for (const text of report.guesses)
    lines.push(annotation('warning', text, { title: 'netguard: environment guessed' }));
  for (const result of report.results) {
    for (const finding of result.decision.findings) {
      const command =
        finding.waivedBy !== undefined ? 'notice' : finding.level === 'deny' ? 'error' : 'warning';
      lines.push(
        annotation(command, `${objectName(result)} at ${finding.path}: ${findingText(finding)}`, {
          file: result.manifest.file,
          line: result.manifest.source.lineOf(finding.path),
          title: `netguard ${finding.rule} ${finding.name}`,
        }),
      );
    }
  }
  for (const error of report.errors) {
    lines.push(
      annotation('error', error.problem, {
        file: error.file,
        ...(error.line === undefined ? {} : { line: error.line }),
        title: 'netguard: input error',
      }),
    );
  }
  const s = summaryOf(report.results);
  lines.push(
    `netguard check: ${s.objects} ${s.objects === 1 ? 'object' : 'objects'}: ${s.denied} denied, ${s.warned} admitted with warnings, ${s.objects - s.denied - s.warned} admitted`,
  );
  return `${lines.join('\n')}\n`;
}
