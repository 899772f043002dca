// The standalone executable's entry (Node SEA runs a CommonJS script: no top-level await).
import { runCli } from '../cli/run.ts';

void runCli(process.argv);
