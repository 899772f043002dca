import fc from 'fast-check';

/**
 * How property tests run. `npm test`: a fixed seed and 100 runs, so a red run is red again on the
 * next try. `npm run test:slow` sets NETGUARD_PROPERTY_RUNS (and no seed): a fresh random seed and
 * many more runs each time. fast-check prints the seed and the shrunk counterexample on failure;
 * replay one with NETGUARD_PROPERTY_SEED=<seed>.
 */
const FIXED_SEED = 20261206;

export function propertyRuns(): { seed: number; numRuns: number } {
  const runs = Number(process.env['NETGUARD_PROPERTY_RUNS'] ?? '');
  const seed = Number(process.env['NETGUARD_PROPERTY_SEED'] ?? '');
  const slow = Number.isInteger(runs) && runs > 0;
  return {
    seed:
      Number.isInteger(seed) && process.env['NETGUARD_PROPERTY_SEED'] !== undefined
        ? seed
        : slow
          ? Math.floor(Math.random() * 2 ** 31)
          : FIXED_SEED,
    numRuns: slow ? runs : 100,
  };
}

// One configuration for every fc.assert in the process, so no file can drift from it.
fc.configureGlobal({ ...propertyRuns() });
