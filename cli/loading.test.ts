// What a command loads: a sim run or a validation must not load the testbed's packages
// (dockerode, ioredis, cap). The built CLI runs in a child process with a module hook that
// logs every ESM resolution and CommonJS require; a testbed command is the control that
// shows the hook sees those packages when they are loaded.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'migsim-loading-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  appendFileSync(process.env.MIGSIM_LOADED_LOG, r.url + '\\n');
  return r;
}
`;
const REGISTER = `import { createRequire, register } from 'node:module';
import { appendFileSync } from 'node:fs';
register('./hooks.mjs', import.meta.url);
const Module = createRequire(import.meta.url)('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  appendFileSync(process.env.MIGSIM_LOADED_LOG, 'require:' + request + '\\n');
  return load.call(this, request, ...rest);
};
`;
writeFileSync(join(work, 'hooks.mjs'), HOOKS);
writeFileSync(join(work, 'register.mjs'), REGISTER);

let logCount = 0;
const TESTBED_PACKAGES = ['dockerode', 'ioredis', 'cap'];

/** The packages (node_modules/<name>, or a bare require) the CLI loaded for `args`. */
function packagesLoaded(args: string[]): { status: number | null; packages: Set<string> } {
  const log = join(work, `loaded-${++logCount}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', join(work, 'register.mjs'), join(process.cwd(), 'bin/migsim.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, MIGSIM_LOADED_LOG: log, DOCKER_HOST: `unix://${join(work, 'no-docker.sock')}` },
    timeout: 60_000,
  });
  const packages = new Set<string>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line) ?? /^require:((?:@[^/]+\/)?[^./][^/]*)/.exec(line);
    if (m) packages.add(m[1]!);
  }
  return { status: r.status, packages };
}

describe('what a command loads', () => {
  it.each([
    ['validate', ['validate', 'scenarios/quickstart.yaml']],
    ['run on the sim', ['run', 'scenarios/rebind/extended-leasequery-query.yaml', '--out', join(work, 'r.json')]],
    ['check on the sim', ['check', 'scenarios/quickstart.yaml']],
  ])('%s loads none of the testbed packages', (_what, args) => {
    const { status, packages } = packagesLoaded(args);
    expect(status).toBe(0);
    expect(packages.has('yargs')).toBe(true); // the hook saw the CLI's own packages
    expect(TESTBED_PACKAGES.filter((p) => packages.has(p))).toEqual([]);
  });

  it('a testbed command does load Docker\'s client (the hook would see it)', () => {
    const { packages } = packagesLoaded(['testbed', 'status', '--json']);
    expect(packages.has('dockerode')).toBe(true);
  });
});
