/**
 * One RFC 6902 operation, as a mutating webhook's `patch` carries it. netguard only builds
 * patches (the API server applies them), so it ships the type, not a JSON Patch library; the
 * tests apply every patch with fast-json-patch (a devDependency).
 */
export type PatchOperation =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'move' | 'copy'; readonly path: string; readonly from: string };
