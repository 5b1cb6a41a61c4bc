import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupEngine, tempDagFolder, type TestSetup } from './helpers.js';
import { runCli } from './support/cli.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
});
afterAll(() => setup?.close());

/** Run the real CLI against this file's database; resolves with exit code and output. */
function cli(args: string[], folder = 'test/fixtures/dags'): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(setup.database.url, [...args, '--dags-folder', folder]);
}

describe('the tributary CLI', { timeout: 180_000 }, () => {
  it('dags test runs a DAG to completion, prints every task and exits 0', async () => {
    const { code, stdout, stderr } = await cli(['dags', 'test', 'diamond']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/task\s+state\s+tries\s+duration/);
    for (const task of ['a', 'b', 'c', 'd']) expect(stdout).toMatch(new RegExp(`\\n${task}\\s+success\\s+1\\s+\\d+ ms`));
    expect(stdout).toMatch(/Run test__\S+: success in/);
    expect(stderr).toContain('d: success (try 1)');
  });

  it('dags test exits 1 when the run fails and points at the failed task log', async () => {
    const { code, stdout } = await cli(['dags', 'test', 'failures', '--json']);
    expect(code).toBe(1);
    const result = JSON.parse(stdout) as { state: string; tasks: { taskId: string; state: string; tries: number }[] };
    expect(result.state).toBe('failed');
    expect(result.tasks.find((t) => t.taskId === 'boom')).toMatchObject({ state: 'failed', tries: 1 });
  });

  it('rejects params failing the schema (exit 1) and malformed JSON (exit 2), naming the problem', async () => {
    const invalid = await cli(['dags', 'test', 'with_params', '--params', '{"county": 42}']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("error: DAG 'with_params': invalid params: county must be string");
    const malformed = await cli(['dags', 'test', 'with_params', '--params', '{county:']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/error: --params: not valid JSON/);
  });

  it('names an unknown DAG and lists the known ones', async () => {
    const { code, stderr } = await cli(['dags', 'trigger', 'nope']);
    expect(code).toBe(1);
    expect(stderr).toContain("error: DAG 'nope' not found");
    const test = await cli(['dags', 'test', 'dimaond']);
    expect(test.code).toBe(1);
    expect(test.stderr).toContain("error: DAG 'dimaond' not found; did you mean 'diamond'?; known DAGs: ");
    expect(test.stderr).toMatch(/known DAGs: .*\bdiamond\b.*\bfailures\b/);
  });

  it('dags list shows DAGs and import errors; --json is machine-readable', async () => {
    const folder = tempDagFolder({
      'ok.ts': "import { dag } from '@tributary/engine';\nconst d = dag({ id: 'listed' });\nd.task('t', () => 1);\nexport default d;\n",
      'broken.ts': "throw new Error('missing API key');\n",
    });
    try {
      const json = await cli(['dags', 'list', '--json'], folder.dir);
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout) as { dags: { dagId: string }[]; importErrors: { file: string; message: string }[] };
      expect(parsed.dags.map((d) => d.dagId)).toEqual(['listed']);
      expect(parsed.importErrors).toEqual([expect.objectContaining({ file: expect.stringMatching(/broken\.ts$/), message: 'missing API key' })]);
      const text = await cli(['dags', 'list'], folder.dir);
      expect(text.stdout).toMatch(/listed\s+\S+ok\.ts\s+manual\s+no\s+1/);
      expect(text.stdout).toMatch(/Import errors \(1\):\n\s+\S+broken\.ts: missing API key/);
    } finally {
      folder.remove();
    }
  });

  it("tasks logs prints a try's log, including what the task printed", async () => {
    const test = await cli(['dags', 'test', 'retries', '--json']);
    const runId = (JSON.parse(test.stdout) as { runId: string }).runId;
    const { code, stdout } = await cli(['tasks', 'logs', 'retries', runId, 'flaky']);
    expect(code).toBe(0);
    expect(stdout).toContain('--- try 1 ---');
    expect(stdout).toContain('--- try 3 ---');
    expect(stdout).toMatch(/ERROR Task failed after \d+ ms: Error: transient failure on try 1/);
    expect(stdout).toMatch(/INFO  attempt \{"tryNumber":3\}/);
    const missing = await cli(['tasks', 'logs', 'retries', runId, 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`task 'nope' in run '${runId}' of DAG 'retries' not found`);
  });

  it('db migrate is a no-op on a migrated database', async () => {
    const { code, stdout } = await cli(['db', 'migrate']);
    expect(code).toBe(0);
    expect(stdout).toBe('Database is up to date\n');
  });

  it('pools set creates or resizes a pool, list shows its slots, delete removes it', async () => {
    expect((await cli(['pools', 'set', 'scraping', '4', 'headless browsers'])).stdout).toBe('Pool scraping: 4 slots (4 open)\n');
    expect((await cli(['pools', 'set', 'scraping', '-1'])).stdout).toBe('Pool scraping: unlimited slots (unlimited open)\n');
    const listed = await cli(['pools', 'list']);
    expect(listed.stdout).toMatch(/pool\s+slots\s+open\s+running\s+queued\s+scheduled\s+description/);
    expect(listed.stdout).toMatch(/\nscraping\s+unlimited\s+unlimited\s+0\s+0\s+0\s+headless browsers/);
    const bad = await cli(['pools', 'set', 'scraping', 'many']);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining("slots: expected a whole number >= 0, or -1 for unlimited, got 'many'") });
    expect((await cli(['pools', 'delete', 'scraping'])).code).toBe(0);
    const json = JSON.parse((await cli(['pools', 'list', '--json'])).stdout) as { name: string }[];
    expect(json.map((p) => p.name)).toEqual(['default_pool']);
    expect((await cli(['pools', 'delete', 'default_pool'])).stderr).toContain("'default_pool' cannot be deleted");
  });
});
