import { z } from 'zod';
import { labelSelectorSchema } from '../labels.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';
import { MODES } from '../vocabulary.ts';

const duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { message: DURATION_HINT });
const level = z.enum(['deny', 'warn', 'off']);
const mode = z.enum(MODES);
const dnsName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// A namespace name in which `*` stands for any run of characters.
const namespacePattern = z.string().regex(/^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$/, {
  message: 'expected a namespace name pattern: lowercase letters, digits, "-" and "*" wildcards',
});
const cidr = z.string().min(1);

const environment = z.strictObject({
  name: z.string().regex(dnsName, { message: 'expected a lowercase name (letters, digits, "-")' }),
  mode,
  namespaces: z.array(namespacePattern).optional(),
  selector: labelSelectorSchema.optional(),
  exceptionMaxDuration: duration.optional(),
});

const requiredLabel = z.strictObject({
  key: z.string().min(1),
  aliases: z.array(z.string().min(1)).optional(),
  allowedValues: z.array(z.string()).optional(),
});

const ruleOverride = z.strictObject({
  level: level.optional(),
  levels: z.record(z.string(), level).optional(),
});

export const guardrailPolicySchema = z.strictObject({
  apiVersion: z.literal('netguard.dev/v1alpha1'),
  kind: z.literal('GuardrailPolicy'),
  metadata: z.strictObject({ name: z.string().min(1) }).optional(),
  spec: z.strictObject({
    excludedNamespaces: z.array(z.string().min(1)).optional(),
    defaultEnvironment: z.string().optional(),
    environments: z.array(environment).min(1, { message: 'at least one environment is required' }),
    pods: z.strictObject({ requiredLabels: z.array(requiredLabel).optional() }).optional(),
    networkPolicies: z
      .strictObject({
        approvedEgressCIDRs: z.array(cidr).optional(),
        approvedEgressFQDNs: z.array(z.string().min(1)).optional(),
        // Routed inside the organisation: egress there is not "the internet" (NP004).
        privateCIDRs: z.array(cidr).optional(),
        // auto (the default): read from the cluster (src/cluster-ranges.ts).
        clusterCIDRs: z.union([z.literal('auto'), z.array(cidr)]).optional(),
        limits: z
          .strictObject({
            rules: z.number().int().min(1).optional(),
            peers: z.number().int().min(1).optional(),
            ports: z.number().int().min(1).optional(),
            values: z.number().int().min(1).optional(),
          })
          .optional(),
        dns: z
          .strictObject({
            namespace: z.string().min(1),
            podLabels: z.record(z.string(), z.string()),
          })
          .optional(),
        ephemeralLabels: z.array(z.string().min(1)).optional(),
      })
      .optional(),
    exceptions: z
      .strictObject({
        warnBefore: duration.optional(),
        approverGroups: z.array(z.string().min(1)).optional(),
      })
      .optional(),
    trust: z
      .strictObject({
        controllerUsers: z.array(z.string().min(1)).optional(),
        controllerGroups: z.array(z.string().min(1)).optional(),
      })
      .optional(),
    controller: z.strictObject({ serviceAccount: z.string().min(1).optional() }).optional(),
    platform: z
      .strictObject({
        users: z.array(z.string().min(1)).optional(),
        groups: z.array(z.string().min(1)).optional(),
      })
      .optional(),
    rules: z.record(z.string(), ruleOverride).optional(),
  }),
});

export type GuardrailPolicyDocument = z.infer<typeof guardrailPolicySchema>;
