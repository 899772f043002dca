/**
 * The webhook manages its own certificates in the cluster, as Gatekeeper's cert-controller does: a
 * CA and a serving pair live in a Secret (shipped empty by deploy/, so RBAC needs no `create`),
 * the CA is injected as caBundle into both webhook configurations, and both are renewed 90 days
 * before they expire. Every replica runs it; resourceVersion-checked writes make one replica's
 * certificates win and the others adopt them.
 */
import { KubeApiError } from '../errors.ts';
import forge from 'node-forge';
import type { Logger } from 'pino';
import type { KubeRest } from '../kube/rest.ts';
import { field } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';
import { createCA, createServingCert, serviceDnsNames, type CertificatePair } from './generate.ts';

const DAY_MS = 86_400_000;
/** Renew this long before expiry (cert-controller's lookahead). */
export const RENEW_BEFORE_MS = 90 * DAY_MS;
/** Re-check this often: renewals, and a caBundle someone's `kubectl apply` reset (cert-controller: 12 h). */
export const CHECK_EVERY_MS = 12 * 3_600_000;

export interface ManagedIdentity {
  readonly namespace: string;
  readonly secret: string;
  readonly service: string;
  /** ValidatingWebhookConfiguration and MutatingWebhookConfiguration of this name. */
  readonly webhookConfiguration: string;
}

export interface SecretCertificates {
  readonly ca: CertificatePair;
  readonly serving: CertificatePair;
  /** The CA certificates clients must trust: the current one, and a previous one still valid during a CA renewal. */
  readonly caBundle: string;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (value: unknown): string =>
  typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';

function readSecretData(secret: KubeObject | undefined): {
  ca?: CertificatePair;
  serving?: CertificatePair;
  previousCa?: string;
} {
  const data = (field(secret ?? {}, 'data') ?? {}) as Record<string, unknown>;
  const pair = (cert: string, key: string): CertificatePair | undefined => {
    const c = unb64(data[cert]);
    const k = unb64(data[key]);
    return c === '' || k === '' ? undefined : { cert: c, key: k };
  };
  const ca = pair('ca.crt', 'ca.key');
  const serving = pair('tls.crt', 'tls.key');
  const previousCa = unb64(data['ca-previous.crt']);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(serving === undefined ? {} : { serving }),
    ...(previousCa === '' ? {} : { previousCa }),
  };
}

const keyMatches = (pair: CertificatePair): boolean => {
  const cert = forge.pki.certificateFromPem(pair.cert);
  const key = forge.pki.privateKeyFromPem(pair.key) as forge.pki.rsa.PrivateKey;
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
  return publicKey.n.equals(key.n) && publicKey.e.equals(key.e);
};

const lastsPast = (pem: string, at: number): boolean =>
  forge.pki.certificateFromPem(pem).validity.notAfter.getTime() > at;

/** Why a CA cannot stay, or undefined when it can. */
function caProblem(ca: CertificatePair | undefined, now: Date): string | undefined {
  if (ca === undefined) return 'no CA';
  try {
    if (!keyMatches(ca)) return 'CA key does not match its certificate';
    if (!lastsPast(ca.cert, now.getTime() + RENEW_BEFORE_MS)) return 'CA expires within 90 days';
  } catch (err) {
    return `CA unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

function servingProblem(
  serving: CertificatePair | undefined,
  ca: CertificatePair,
  dnsNames: readonly string[],
  now: Date,
): string | undefined {
  if (serving === undefined) return 'no serving certificate';
  try {
    const cert = forge.pki.certificateFromPem(serving.cert);
    if (!keyMatches(serving)) return 'serving key does not match its certificate';
    if (!forge.pki.certificateFromPem(ca.cert).verify(cert))
      return 'serving certificate not signed by the CA';
    const ext = cert.getExtension('subjectAltName') as
      | { altNames?: { value?: string }[] }
      | undefined;
    const names = new Set((ext?.altNames ?? []).map((alt) => alt.value));
    const missing = dnsNames.filter((name) => !names.has(name));
    if (missing.length > 0) return `serving certificate lacks ${missing.join(', ')}`;
    if (!lastsPast(serving.cert, now.getTime() + RENEW_BEFORE_MS))
      return 'serving certificate expires within 90 days';
  } catch (err) {
    return `serving certificate unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

export type Assessment =
  | { readonly ok: SecretCertificates }
  | { readonly renew: string; readonly next: SecretCertificates };

/** What the Secret holds, and what it should hold instead (pure apart from key generation). */
export function assessSecret(
  secret: KubeObject | undefined,
  identity: ManagedIdentity,
  now: Date,
): Assessment {
  const current = readSecretData(secret);
  const dnsNames = serviceDnsNames(identity.service, identity.namespace);
  const subject = { commonName: `${identity.service}.${identity.namespace}.svc`, dnsNames };
  const withPrevious = (ca: string, previous: string | undefined): string =>
    previous !== undefined && lastsPast(previous, now.getTime())
      ? `${ca.trim()}\n${previous.trim()}\n`
      : ca;
  const badCa = caProblem(current.ca, now);
  if (badCa !== undefined || current.ca === undefined) {
    const ca = createCA(`netguard CA (${identity.service}.${identity.namespace})`, now);
    // The old CA stays trusted until it expires, so replicas still serving its certificate keep working.
    const previous =
      current.ca !== undefined && badCa === 'CA expires within 90 days'
        ? current.ca.cert
        : undefined;
    return {
      renew: badCa ?? 'no CA',
      next: {
        ca,
        serving: createServingCert(ca, subject, now),
        caBundle: withPrevious(ca.cert, previous),
      },
    };
  }
  const ca = current.ca;
  const caBundle = withPrevious(ca.cert, current.previousCa);
  const badServing = servingProblem(current.serving, ca, dnsNames, now);
  if (badServing !== undefined || current.serving === undefined) {
    return {
      renew: badServing ?? 'no serving certificate',
      next: { ca, serving: createServingCert(ca, subject, now), caBundle },
    };
  }
  return { ok: { ca, serving: current.serving, caBundle } };
}

function secretData(certs: SecretCertificates): Record<string, string> {
  const previous = certs.caBundle.replace(certs.ca.cert.trim(), '').trim();
  return {
    'ca.crt': b64(certs.ca.cert),
    'ca.key': b64(certs.ca.key),
    'tls.crt': b64(certs.serving.cert),
    'tls.key': b64(certs.serving.key),
    ...(previous === '' ? {} : { 'ca-previous.crt': b64(`${previous}\n`) }),
  };
}

const secretPath = (identity: ManagedIdentity): string =>
  `/api/v1/namespaces/${identity.namespace}/secrets/${identity.secret}`;

/** The Secret holds valid certificates afterwards; returns them (ours, or another replica's that won). */
export async function ensureSecret(
  rest: KubeRest,
  identity: ManagedIdentity,
  logger: Logger,
  now: Date,
): Promise<SecretCertificates> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const secret = await rest.get(secretPath(identity));
    const assessment = assessSecret(secret, identity, now);
    if ('ok' in assessment) return assessment.ok;
    try {
      await rest.replace(secretPath(identity), { ...secret, data: secretData(assessment.next) });
      logger.info(
        { secret: `${identity.namespace}/${identity.secret}`, reason: assessment.renew },
        'webhook certificates renewed',
      );
      return assessment.next;
    } catch (err) {
      // Another replica renewed first: read again and adopt what it wrote.
      if (!(err instanceof KubeApiError && err.code === 409)) throw err;
    }
  }
  throw new Error(
    `could not update Secret ${identity.namespace}/${identity.secret}: it kept changing`,
  );
}

const WEBHOOK_PATHS = ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'].map(
  (resource) => `/apis/admissionregistration.k8s.io/v1/${resource}`,
);

/** Writes caBundle into every webhook of both configurations that lacks it; returns what changed. */
export async function injectCaBundle(
  rest: KubeRest,
  identity: ManagedIdentity,
  caBundle: string,
): Promise<string[]> {
  const bundle = b64(caBundle);
  const changed: string[] = [];
  for (const collection of WEBHOOK_PATHS) {
    const path = `${collection}/${identity.webhookConfiguration}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const config = await rest.get(path);
      const webhooks = (field(config, 'webhooks') ?? []) as Record<string, unknown>[];
      if (webhooks.every((hook) => field(hook, 'clientConfig', 'caBundle') === bundle)) break;
      const patched = webhooks.map((hook) => ({
        ...hook,
        clientConfig: { ...(hook['clientConfig'] as object), caBundle: bundle },
      }));
      try {
        await rest.replace(path, { ...config, webhooks: patched });
        changed.push(path.split('/').slice(-2).join('/'));
        break;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 409) || attempt === 4) throw err;
      }
    }
  }
  return changed;
}

export interface CertRotation {
  /** The serving pair to listen with now. */
  current(): CertificatePair;
  stop(): void;
}

/**
 * Ensures Secret and caBundle before the webhook listens, then re-checks every 12 hours (and at
 * `recheck()`); a new serving pair goes to `onRenewed` (the server swaps its TLS context live).
 */
export async function startCertRotation(options: {
  readonly rest: KubeRest;
  readonly identity: ManagedIdentity;
  readonly logger: Logger;
  readonly onRenewed: (pair: CertificatePair) => void;
  readonly now?: () => Date;
  readonly checkEveryMs?: number;
}): Promise<CertRotation & { recheck(): Promise<void> }> {
  const logger = options.logger.child({ component: 'certs' });
  const now = options.now ?? (() => new Date());
  const sync = async (): Promise<SecretCertificates> => {
    const certs = await ensureSecret(options.rest, options.identity, logger, now());
    const changed = await injectCaBundle(options.rest, options.identity, certs.caBundle);
    if (changed.length > 0)
      logger.info({ changed }, 'caBundle injected into the webhook configurations');
    return certs;
  };
  let certs = await sync();
  const recheck = async (): Promise<void> => {
    try {
      const next = await sync();
      if (next.serving.cert !== certs.serving.cert) options.onRenewed(next.serving);
      certs = next;
    } catch (err) {
      logger.error(
        { err },
        'certificate check failed; the current certificate keeps serving, retrying at the next check',
      );
    }
  };
  const timer = setInterval(() => void recheck(), options.checkEveryMs ?? CHECK_EVERY_MS);
  timer.unref();
  return { current: () => certs.serving, recheck, stop: () => clearInterval(timer) };
}
