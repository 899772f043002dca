// Preloaded with `node --import`: records every module the process resolves and, at exit, writes
// their URLs (one a line) to the file named by NETGUARD_MODULE_PROBE. Lets a test read a command's
// real module graph instead of trusting the import statements.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env['NETGUARD_MODULE_PROBE'];
const resolved = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
process.on('exit', () => {
  if (out !== undefined) writeFileSync(out, [...resolved].join('\n'));
});
