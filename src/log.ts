import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * The process logger: JSON lines on stdout, built by the CLI, never at import time. Written
 * synchronously: pino's default asynchronous destination sends each write through libuv's
 * thread pool (~5 µs of the main thread per audit line under load, measured in issue 13),
 * while a direct write(2) to stdout costs about a microsecond and loses nothing on a crash.
 */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { name: 'netguard' } }, pino.destination({ fd: 1, sync: true }));
}
