// The error classes every floor may throw; the CLI maps them to exit codes (src/cli/run.ts, program.ts).

/** A problem with the command line: printed as is, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A failure the user can act on without a stack trace: a kubeconfig that does not load, an API
 * server that refuses, a port already taken. Printed as one line; exit code 1 unless said.
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A policy or exceptions file that cannot be used; the message names the file, the field and the problem. Exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An API error as a Status object names it: HTTP code and reason (Conflict, AlreadyExists, NotFound, Expired...). */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly code: number;
  readonly reason: string;
  /** The Status message alone, as kubectl prints it after `Error from server (REASON): `. */
  readonly statusMessage: string;
  constructor(method: string, path: string, code: number, reason: string, message: string) {
    super(`${method} ${path}: ${code} ${reason}: ${message}`);
    this.code = code;
    this.reason = reason;
    this.statusMessage = message;
  }
}
