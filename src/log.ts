import { pino, type Logger, type LevelWithSilent } from 'pino';

/** The process logger: JSON lines on stdout. Built by the CLI, never at import time. */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { name: 'netguard' } });
}
