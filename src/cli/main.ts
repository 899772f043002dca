#!/usr/bin/env node
import { nodeTooOld, quietNodeWarnings } from './node-runtime.ts';

// Checked before the CLI (and its dependencies) load, so an old Node gets one line, not a stack trace.
const tooOld = nodeTooOld(process.versions.node);
if (tooOld === undefined) {
  quietNodeWarnings(process, process.env);
  const { runCli } = await import('./run.ts');
  await runCli(process.argv);
} else {
  process.stderr.write(tooOld);
  process.exitCode = 2;
}
