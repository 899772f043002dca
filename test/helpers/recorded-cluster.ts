import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { parse } from 'yaml';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';

/** List responses recorded from a cluster (test/fixtures/cluster/README.md). */
export const RECORDED = 'test/fixtures/cluster';

interface RecordedList {
  apiVersion: string;
  kind: string;
  items: Record<string, unknown>[];
}

const PLURAL: Record<string, string> = {
  NetworkPolicyList: 'networkpolicies',
  GuardrailExceptionList: 'guardrailexceptions',
};
const collectionOf = (list: RecordedList): string => {
  const plural = PLURAL[list.kind] ?? `${list.kind.replace(/List$/, '').toLowerCase()}s`;
  return list.apiVersion.includes('/')
    ? `/apis/${list.apiVersion}/${plural}`
    : `/api/${list.apiVersion}/${plural}`;
};

/** Serves the recorded list responses; `replace` swaps a file's items (e.g. another CNI). */
export async function recordedCluster(
  t: Test,
  replace: Record<string, Record<string, unknown>[]> = {},
): Promise<FakeKubeApi> {
  const api = await startFakeKubeApi(t);
  for (const file of readdirSync(RECORDED).filter((name) => name.endsWith('.yaml'))) {
    const list = parse(readFileSync(join(RECORDED, file), 'utf8')) as RecordedList;
    api.seed(collectionOf(list), ...(replace[file] ?? list.items));
  }
  return api;
}
