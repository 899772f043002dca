/** What a reply must show for one request. */
export interface Expectation {
  readonly allowed: boolean;
  /** A mutation must come back as a JSON Patch. */
  readonly patch: boolean;
}

export type Problem = { readonly kind: 'error' | 'wrong'; readonly detail: string };

function member(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? Reflect.get(value, key) : undefined;
}

/** HTTP 200, JSON, the uid echoed (else an error), and the expected verdict (else a wrong verdict). */
export function verifyReply(
  status: number,
  text: string,
  uid: string,
  expect: Expectation,
): Problem | undefined {
  if (status !== 200) return { kind: 'error', detail: `HTTP ${status}: ${text.slice(0, 160)}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'error', detail: `reply is not JSON: ${text.slice(0, 80)}` };
  }
  const response = member(parsed, 'response');
  if (member(response, 'uid') !== uid)
    return { kind: 'error', detail: `uid not echoed (sent ${uid})` };
  const allowed = member(response, 'allowed');
  if (allowed !== expect.allowed)
    return { kind: 'wrong', detail: `allowed=${String(allowed)}, expected ${expect.allowed}` };
  if (expect.patch && member(response, 'patchType') !== 'JSONPatch')
    return { kind: 'wrong', detail: 'no JSON Patch in a mutation reply' };
  return undefined;
}

/** The verdict a reply carries, for the probe that compares the engine with DESIGN.md. */
export function verdictOf(text: string): { allowed: boolean | undefined; patch: boolean } {
  const response = member(JSON.parse(text), 'response');
  const allowed = member(response, 'allowed');
  return {
    allowed: typeof allowed === 'boolean' ? allowed : undefined,
    patch: member(response, 'patchType') === 'JSONPatch',
  };
}
