// The standalone executable's entry (Node SEA runs a CommonJS script: no top-level await).
import { quietNodeWarnings } from '../cli/node-runtime.ts';
import { runCli } from '../cli/run.ts';

quietNodeWarnings(process, process.env);
void runCli(process.argv);
