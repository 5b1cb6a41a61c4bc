import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskContext, TaskLogger } from '../src/dag/types.js';
import { CommandFailedError, SkipTaskError, TaskTimeoutError } from '../src/errors.js';
import { runCommand } from '../src/executor/command-operator.js';
import { command } from '../src/operators/index.js';
import { listTaskInstances } from '../src/service/runs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { eventually, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

/** A task context whose log lines are collected, and its abort controller. */
function context(): { ctx: TaskContext; lines: { level: string; message: string }[]; abort: AbortController } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (a: unknown, b?: unknown) => lines.push({ level, message: typeof a === 'string' ? a : String(b ?? '') });
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as TaskLogger;
  const abort = new AbortController();
  const ctx: TaskContext = {
    dagId: 'd', runId: 'r', runType: 'manual', taskId: 't', mapIndex: -1, tryNumber: 1, maxTries: 1,
    logicalDate: new Date('2024-05-01T00:00:00Z'), dataInterval: { start: new Date(), end: new Date() },
    params: {}, upstream: {}, args: {}, log, signal: abort.signal,
    outletEvents: { get: () => { throw new Error('no outlets'); } }, triggeringAssetEvents: {},
  };
  return { ctx, lines, abort };
}

/** The process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'command-op-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the command operator', () => {
  it('streams stdout (info) and stderr (warn) line by line and returns the last stdout line', async () => {
    const { ctx, lines } = context();
    const result = await runCommand(
      { command: process.execPath, args: ['-e', "console.log('one'); console.error('oops'); console.log('two\\nthree'); console.log('')"] },
      ctx,
    );
    expect(result).toBe('three');
    // stdout and stderr are separate pipes: each is in order, their interleaving is the OS's.
    const output = lines.filter((l) => !l.message.startsWith('Running:'));
    expect(output.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['one', 'two', 'three', '']);
    expect(output.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['oops']);
  });

  it('passes arguments without a shell, env and cwd; the context is in TRIBUTARY_* variables', async () => {
    const { ctx } = context();
    const result = await runCommand(
      {
        command: process.execPath,
        args: ['-e', 'console.log(JSON.stringify([process.argv[1], process.env.GREETING, process.cwd(), process.env.TRIBUTARY_DAG_ID, process.env.TRIBUTARY_TRY_NUMBER]))', '$HOME; rm -rf /'],
        env: { GREETING: 'hello' },
        cwd: dir,
        result: 'json',
      },
      ctx,
    );
    expect(result).toEqual(['$HOME; rm -rf /', 'hello', dir, 'd', '1']);
  });

  it('runs through a shell only when asked, with args as $1…', async () => {
    const { ctx } = context();
    expect(await runCommand({ command: 'echo "$1-$2" | tr a-z A-Z', args: ['ab', 'cd'], shell: true }, ctx)).toBe('AB-CD');
  });

  it('fails with the exit code and the last lines of output', async () => {
    const { ctx } = context();
    const error = await runCommand(
      { command: '/bin/sh', args: ['-c', 'for i in 1 2 3 4 5; do echo line $i; done; echo bad >&2; exit 3'], errorLines: 3 },
      ctx,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error).toMatchObject({ exitCode: 3, signal: null, lastLines: ['line 4', 'line 5', 'bad'] });
    expect((error as Error).message).toBe("command /bin/sh -c 'for i in 1 2 3 4 5; do echo line $i; done; echo bad >&2; exit 3' exited with code 3\nLast 3 line(s) of output:\n  line 4\n  line 5\n  bad");
  });

  it('ends the try as skipped on a skip exit code (99 by default, configurable)', async () => {
    const { ctx } = context();
    await expect(runCommand({ command: '/bin/sh', args: ['-c', 'exit 99'] }, ctx)).rejects.toBeInstanceOf(SkipTaskError);
    await expect(runCommand({ command: '/bin/sh', args: ['-c', 'exit 42'], skipExitCodes: [42] }, ctx)).rejects.toThrow(/code 42, one of its skip exit codes/);
    await expect(runCommand({ command: '/bin/sh', args: ['-c', 'exit 99'], skipExitCodes: [] }, ctx)).rejects.toBeInstanceOf(CommandFailedError);
  });

  it('names a missing program and a missing working directory', async () => {
    const { ctx } = context();
    await expect(runCommand({ command: 'no-such-program-xyz' }, ctx)).rejects.toThrow("DAG 'd': task 't': command 'no-such-program-xyz' not found: is it installed and on PATH?");
    await expect(runCommand({ command: 'ls', cwd: join(dir, 'nope') }, ctx)).rejects.toThrow(/working directory '.*nope' does not exist/);
    await expect(runCommand({ command: 'ls', shell: 3 } as never, ctx)).rejects.toThrow(/command: option 'shell'/);
  });

  it('on abort, ends the whole process group, SIGKILLing a child that ignores SIGTERM after the grace period', async () => {
    const { ctx, abort } = context();
    const pidFile = join(dir, 'pids');
    // The shell starts a child that ignores SIGTERM and a grandchild, then waits.
    const script = `trap '' TERM; sleep 60 & echo $! > ${pidFile}.a; sh -c 'trap "" TERM; sleep 60' & echo $! > ${pidFile}.b; echo started; wait`;
    const running = runCommand({ command: script, shell: true, killGracePeriod: '700ms' }, ctx);
    running.catch(() => {});
    await eventually(async () => {
      try {
        return readFileSync(`${pidFile}.a`, 'utf8').endsWith('\n') && readFileSync(`${pidFile}.b`, 'utf8').endsWith('\n');
      } catch {
        return false;
      }
    });
    const pids = [Number(readFileSync(`${pidFile}.a`, 'utf8')), Number(readFileSync(`${pidFile}.b`, 'utf8'))];
    expect(pids.every(alive)).toBe(true);
    const reason = new TaskTimeoutError('d', 't', 100);
    abort.abort(reason);
    await sleep(300);
    expect(pids.every(alive), 'SIGTERM is ignored during the grace period').toBe(true);
    const settled = await Promise.race([running.then(() => 'resolved', (error: unknown) => error), sleep(10_000).then(() => 'still running after 10 s')]);
    expect(settled).toBe(reason);
    await eventually(async () => pids.every((pid) => !alive(pid)), 5_000, 'the whole group to be killed');
  });

  it('stops a command aborted before Node reported it started', async () => {
    const { ctx, abort } = context();
    const running = runCommand({ command: 'sleep', args: ['30'], killGracePeriod: '500ms' }, ctx);
    // The command is spawned by now, but Node emits 'spawn' later (after timers, on Node 24).
    const reason = new TaskTimeoutError('d', 't', 1);
    abort.abort(reason);
    const settled = await Promise.race([running.then(() => 'resolved', (error: unknown) => error), sleep(10_000).then(() => 'still running after 10 s')]);
    expect(settled).toBe(reason);
  });

  it('kills background processes a finished command left behind', async () => {
    const { ctx } = context();
    const pidFile = join(dir, 'bg');
    await runCommand({ command: `sleep 60 & echo $! > ${pidFile}; echo done`, shell: true, killGracePeriod: '500ms' }, ctx);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await eventually(async () => !alive(pid), 5_000, 'the background process to end');
  });

  it('validates its arguments where the DAG is defined', () => {
    expect(() => command({ command: '' })).toThrow("command(): option 'command': expected a non-empty string");
    expect(() => command({ command: 'ls', skipExitCodes: [0] })).toThrow("command(): option 'skipExitCodes.0'");
    expect(() => command({ command: 'ls', timeout: 3 } as never)).toThrow("command(): unknown option(s) 'timeout'");
    expect(command({ command: 'ls' })).toEqual({ operator: 'tributary.command', args: { command: 'ls' } });
  });
});

describe('command tasks in a DAG', () => {
  let setup: TestSetup;
  let folder: ReturnType<typeof tempDagFolder>;
  beforeAll(async () => {
    folder = tempDagFolder({
      'commands.ts': `
import { dag } from '@tributary/engine';
import { command } from '@tributary/engine/operators';
const d = dag({ id: 'commands' });
const hello = d.task('hello', command({ command: 'sh', args: ['-c', 'echo working; echo 42'] }));
d.task('skip', command({ command: 'sh', args: ['-c', 'echo nothing to do; exit 99'] }), { upstream: [hello] });
d.task('slow', command({ command: 'sleep', args: ['30'], killGracePeriod: '1s' }), { executionTimeout: '500ms' });
export default d;
`,
    });
    setup = await setupEngine({ dagsFolders: [folder.dir] });
  });
  afterAll(async () => {
    await setup?.close();
    folder?.remove();
  });

  it('records results, skips and timeouts, with the output in the task log', async () => {
    const { engine } = setup;
    const result = await runDagToCompletion(engine, 'commands');
    const states = Object.fromEntries((await listTaskInstances(engine.db, result.run.id)).map((t) => [t.taskId, t.state]));
    expect(states).toEqual({ hello: 'success', skip: 'skipped', slow: 'failed' });
    const xcom = await engine.db.selectFrom('tributary.xcom').select(['task_id', 'value']).where('run_pk', '=', result.run.id).execute();
    expect(xcom).toEqual([{ task_id: 'hello', value: '42' }]);
    const logs = await engine.db
      .selectFrom('tributary.task_log as l')
      .innerJoin('tributary.task_instance as t', 't.id', 'l.ti_id')
      .select(['t.task_id', 'l.level', 'l.message'])
      .where('t.run_pk', '=', result.run.id)
      .orderBy('l.id')
      .execute();
    const of = (task: string): string[] => logs.filter((l) => l.task_id === task).map((l) => `${l.level} ${l.message}`);
    expect(of('hello')).toEqual(expect.arrayContaining(['info Running: sh -c \'echo working; echo 42\'', 'info working', 'info 42']));
    expect(of('skip')).toEqual(expect.arrayContaining(['info nothing to do', expect.stringMatching(/^info Task skipped itself: command exited with code 99/)]));
    expect(of('slow').join('\n')).toMatch(/TaskTimeoutError: DAG 'commands': task 'slow' timed out after 500 ms/);
  });
});
