import { KubeApiError } from '../errors.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { z } from 'zod';
import { writeCertificateFiles } from '../certs/files.ts';
import {
  CA_LIFETIME_DAYS,
  createCA,
  createServingCert,
  serviceDnsNames,
  SERVING_LIFETIME_DAYS,
  type CertificatePair,
} from '../certs/generate.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { kubeRest } from '../kube/rest.ts';
import { arrayField, asRecord } from '../object-access.ts';
import { parseOptions, contextOption, kubeconfigOption } from './options.ts';
import { cliIo } from './io.ts';

/** The webhook configurations deploy/ installs; --patch writes the caBundle into both. */
export const WEBHOOK_CONFIGURATION_NAME = 'netguard';
export const DEFAULT_SECRET_NAME = 'netguard-tls';

const dnsLabel = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    'must be a DNS label (lowercase letters, digits and -)',
  );
const certsOptions = z.strictObject({
  service: dnsLabel,
  namespace: dnsLabel,
  out: z.string().min(1).optional(),
  secret: z.boolean().optional(),
  secretName: dnsLabel,
  patch: z.boolean().optional(),
  webhookConfiguration: z.string().min(1),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
export type CertsOptions = z.infer<typeof certsOptions>;

export interface ServiceCertificates {
  readonly ca: CertificatePair;
  readonly serving: CertificatePair;
  /** base64 of ca.crt: what a webhook configuration's clientConfig.caBundle holds. */
  readonly caBundle: string;
}

/** A fresh CA and a serving pair for every name the API server may use to reach the Service. */
export function serviceCertificates(
  service: string,
  namespace: string,
  now = new Date(),
): ServiceCertificates {
  const ca = createCA(`netguard CA (${service}.${namespace})`, now);
  const serving = createServingCert(
    ca,
    { commonName: `${service}.${namespace}.svc`, dnsNames: serviceDnsNames(service, namespace) },
    now,
  );
  return { ca, serving, caBundle: Buffer.from(ca.cert).toString('base64') };
}

/** The serving pair as the Deployment mounts it: a kubernetes.io/tls Secret (ca.crt included for clients). */
export function secretManifest(
  certs: ServiceCertificates,
  name: string,
  namespace: string,
): string {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'netguard' } },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': b64(certs.serving.cert),
      'tls.key': b64(certs.serving.key),
      'ca.crt': b64(certs.ca.cert),
    },
  };
  // The caBundle rides along as a comment, so stdout stays a manifest `kubectl apply -f -` accepts.
  return `# caBundle: ${certs.caBundle}\n${stringify(secret)}`;
}

/**
 * Sets clientConfig.caBundle on every webhook of the validating and the mutating configuration.
 * Read-modify-replace carries the resourceVersion, so a concurrent edit gets 409 and is retried
 * on a fresh read rather than overwritten.
 */
export async function patchCaBundle(
  kubeConfig: KubeConfig,
  name: string,
  caBundle: string,
  attempts = 3,
): Promise<string[]> {
  const rest = kubeRest(kubeConfig);
  const withBundle = (webhooks: readonly unknown[]): Record<string, unknown>[] =>
    webhooks.map((webhook) => {
      const record = asRecord(webhook) ?? {};
      return { ...record, clientConfig: { ...(asRecord(record['clientConfig']) ?? {}), caBundle } };
    });
  const patch = async (plural: string): Promise<string> => {
    const what = `${plural.replace(/s$/, '')}/${name}`;
    const path = `/apis/admissionregistration.k8s.io/v1/${plural}/${name}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await rest.get(path);
        await rest.replace(path, {
          ...current,
          webhooks: withBundle(arrayField(current, 'webhooks')),
        });
        return what;
      } catch (err) {
        const conflict = err instanceof KubeApiError && err.code === 409;
        if (!conflict || attempt >= attempts)
          throw new Error(
            `could not patch ${what}: ${err instanceof Error ? err.message : String(err)}`,
          );
      }
    }
  };
  return [
    await patch('validatingwebhookconfigurations'),
    await patch('mutatingwebhookconfigurations'),
  ];
}

export interface CertsResult {
  /** What goes to stdout: the Secret manifest with --secret, else the caBundle. */
  readonly stdout: string;
  /** What people read on stderr: files written, configurations patched, lifetimes. */
  readonly notes: string[];
  readonly certificates: ServiceCertificates;
}

export async function runCerts(options: CertsOptions, now = new Date()): Promise<CertsResult> {
  const certificates = serviceCertificates(options.service, options.namespace, now);
  const notes = [
    `CA valid ${CA_LIFETIME_DAYS} days, serving certificate ${SERVING_LIFETIME_DAYS} days, for ${serviceDnsNames(options.service, options.namespace).join(', ')}`,
  ];
  if (options.out !== undefined) {
    writeCertificateFiles(options.out, certificates);
    notes.push(`wrote ca.crt, ca.key, tls.crt and tls.key to ${options.out}`);
  }
  if (options.patch === true) {
    const patched = await patchCaBundle(
      loadKubeConfig(options),
      options.webhookConfiguration,
      certificates.caBundle,
    );
    notes.push(`caBundle patched into ${patched.join(' and ')}`);
  }
  const stdout =
    options.secret === true
      ? secretManifest(certificates, options.secretName, options.namespace)
      : `${certificates.caBundle}\n`;
  return { stdout, notes, certificates };
}

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description(
      'generate a CA and a serving certificate for the webhook Service; print the caBundle, write files, a Secret, or patch the webhook configurations',
    )
    .option('--service <name>', 'Service name', 'netguard')
    .option('--namespace <name>', 'Service namespace', 'netguard-system')
    .option('--out <dir>', 'write ca.crt, ca.key, tls.crt and tls.key here')
    .option(
      '--secret',
      'print a kubernetes.io/tls Secret manifest (caBundle in a comment) instead of the bare caBundle',
    )
    .option('--secret-name <name>', 'name of the Secret', DEFAULT_SECRET_NAME)
    .option('--patch', 'write the caBundle into both webhook configurations in the cluster')
    .option(
      '--webhook-configuration <name>',
      'name of the validating and mutating configurations',
      WEBHOOK_CONFIGURATION_NAME,
    )
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      const result = await runCerts(parseOptions(certsOptions, raw));
      for (const note of result.notes) cliIo().stderr(`netguard: ${note}\n`);
      cliIo().stdout(result.stdout);
    });
}
