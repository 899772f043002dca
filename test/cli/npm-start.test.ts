import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';

t.test(
  'npm start serves on localhost (127.0.0.1), as the README says, and passes flags through',
  async (t) => {
    const certs = mkdtempSync(join(tmpdir(), 'netguard-start-'));
    const child = spawn(
      'npm',
      ['start', '--silent', '--', '--port', '0', '--metrics-port', '0', '--certs', certs],
      {
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
        detached: true,
      },
    );
    t.teardown(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in: ${out}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /netguard webhook listening on (https:\/\/[^"\s]+)/.exec(out);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`npm start exited ${code}: ${out}`)));
    });
    t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    t.notMatch(out, /0\.0\.0\.0/, 'nothing binds every interface');
  },
);
