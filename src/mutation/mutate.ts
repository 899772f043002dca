import type { PatchOperation } from '../admission/json-patch.ts';
import { resolveEnvironment } from '../config/environment.ts';
import { namespaceOf, objectName } from '../engine/evaluate.ts';
import { warningLines } from '../engine/message.ts';
import type { AdmissionInput, EvaluationContext, Finding, RuleTarget } from '../engine/types.ts';
import { nsBaseline } from '../rules/ns-baseline.ts';
import { mutateGuardrailException } from './exception-requester.ts';
import { namespaceBaselinePatch } from './namespace-baseline.ts';

export interface Mutation {
  readonly patch: PatchOperation[];
  readonly warnings: string[];
}

const NONE: Mutation = { patch: [], warnings: [] };

/** NS001: a new Namespace gets its baseline, unless an approved waiver opts it out. */
function mutateNamespace(input: AdmissionInput, ctx: EvaluationContext): Mutation {
  if (input.operation !== 'CREATE' || input.object === undefined) return NONE;
  const name = objectName(input);
  if (ctx.policy.excludedNamespaces.has(name)) return NONE;
  const namespace = namespaceOf(input, ctx);
  const environment = resolveEnvironment(ctx.policy, namespace);
  if (ctx.policy.levelOf(nsBaseline, environment) === 'off') return NONE;
  // The opt-out goes through the same waiver logic as every rule: a deny that a waiver can turn into a warning.
  const optOut: Finding = {
    rule: nsBaseline.id,
    name: nsBaseline.name,
    level: 'deny',
    path: 'metadata.annotations',
    message: 'baseline annotations withheld for this namespace.',
    fix: '',
    notes: [],
  };
  const target: RuleTarget = { input, kind: 'Namespace', name, object: input.object, namespace, environment };
  const findings = [optOut];
  ctx.waivers.apply(findings, target, ctx.now);
  // `findings` may gain the waiver's expiry warning.
  if (optOut.waivedBy !== undefined) return { patch: [], warnings: warningLines(findings) };
  return { patch: namespaceBaselinePatch(input.object, environment.mode), warnings: [] };
}

const MUTATORS: Readonly<Record<string, (input: AdmissionInput, ctx: EvaluationContext) => Mutation>> = {
  Namespace: mutateNamespace,
  GuardrailException: mutateGuardrailException,
};

/** The mutating webhook's one entry: a JSON Patch and warnings, never a denial. */
export function mutate(input: AdmissionInput, ctx: EvaluationContext): Mutation {
  const mutator = Object.hasOwn(MUTATORS, input.kind) ? MUTATORS[input.kind] : undefined;
  return mutator === undefined ? NONE : mutator(input, ctx);
}
