import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_DIR } from '../support/common.js';
import { BIN } from '../support/cli.js';

/** A `tributary` service process the chaos suite runs, kills and restarts. */
export interface ChaosProcess {
  readonly name: string;
  readonly kind: 'scheduler' | 'worker';
  /** The current OS process (a new one after each restart). */
  child: ChildProcess;
  /** Exits nobody asked for: the process crashed. */
  readonly crashes: { pid: number; code: number | null; signal: string | null; at: number }[];
}

/** When a process was killed, by pid: the end of whatever it was running. */
export type KillTimes = Map<number, number>;

/** Options of {@link ChaosCluster}. */
export interface ChaosClusterOptions {
  /** Database the processes use. */
  databaseUrl: string;
  /** DAG files copied into the cluster's project folder: name → source. */
  dags: Record<string, string>;
  /** Engine options written to the project's `tributary.config.json`. */
  config?: Record<string, unknown>;
  /** Environment added to every process (the ledger URL, heartbeat timings). */
  env?: Record<string, string>;
  /** Where process logs go (kept after the cluster is closed). */
  logDir: string;
}

/**
 * Real `tributary scheduler` and `tributary worker` processes on one database, started from a project
 * folder inside the engine package (so DAG files resolve `@tributary/engine`), each logging to its
 * own file. Kills are `kill -9`; a process that exits without being killed is counted as a crash.
 */
export class ChaosCluster {
  readonly projectDir: string;
  readonly kills: KillTimes = new Map();
  readonly #options: ChaosClusterOptions;
  readonly #processes = new Map<string, ChaosProcess>();
  readonly #expectedExits = new Set<number>();
  readonly #logs: WriteStream[] = [];

  constructor(options: ChaosClusterOptions) {
    this.#options = options;
    this.projectDir = join(PACKAGE_DIR, '.test-tmp', `chaos-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(join(this.projectDir, 'dags'), { recursive: true });
    mkdirSync(options.logDir, { recursive: true });
    for (const [name, source] of Object.entries(options.dags)) writeFileSync(join(this.projectDir, 'dags', name), source);
    writeFileSync(join(this.projectDir, 'tributary.config.json'), JSON.stringify({ dagsFolders: ['dags'], ...options.config }, null, 2));
  }

  /** Every process started, by name. */
  get processes(): ChaosProcess[] {
    return [...this.#processes.values()];
  }

  /** Start a scheduler or worker process named `name` (`extra` are more CLI arguments). */
  start(kind: 'scheduler' | 'worker', name: string, extra: string[] = []): ChaosProcess {
    const existing = this.#processes.get(name);
    const entry: ChaosProcess = existing ?? { name, kind, child: undefined as unknown as ChildProcess, crashes: [] };
    const log = createWriteStream(join(this.#options.logDir, `${name}.log`), { flags: 'a' });
    this.#logs.push(log);
    const child = spawn(process.execPath, [BIN, kind, '--database-url', this.#options.databaseUrl, '--log-level', 'info', ...extra], {
      cwd: this.projectDir,
      env: { ...process.env, DATABASE_URL: '', TRIBUTARY_DAGS_FOLDER: '', ...this.#options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const pid = child.pid!;
    child.once('exit', (code, signal) => {
      if (!this.#expectedExits.has(pid)) entry.crashes.push({ pid, code, signal, at: Date.now() });
    });
    entry.child = child;
    this.#processes.set(name, entry);
    return entry;
  }

  /** `kill -9` the process named `name`; resolves once it is gone. Returns the killed pid. */
  async kill(name: string): Promise<number> {
    const entry = this.#get(name);
    const pid = entry.child.pid!;
    this.#expectedExits.add(pid);
    const gone = exited(entry.child);
    entry.child.kill('SIGKILL');
    this.kills.set(pid, Date.now());
    await gone;
    return pid;
  }

  /** Kill `name` with SIGKILL and start it again with the same arguments. */
  async restart(name: string, extra: string[] = []): Promise<number> {
    const entry = this.#get(name);
    const pid = await this.kill(name);
    this.start(entry.kind, name, extra);
    return pid;
  }

  /** Processes that are running now. */
  alive(): ChaosProcess[] {
    return this.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  }

  /** Stop every process (SIGTERM, then SIGKILL after `graceMs`) and remove the project folder. */
  async close(graceMs = 10_000): Promise<void> {
    await Promise.all(
      this.alive().map(async (entry) => {
        this.#expectedExits.add(entry.child.pid!);
        const gone = exited(entry.child);
        entry.child.kill('SIGTERM');
        const timer = setTimeout(() => entry.child.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
      }),
    );
    for (const log of this.#logs) log.end();
    rmSync(this.projectDir, { recursive: true, force: true });
  }

  #get(name: string): ChaosProcess {
    const entry = this.#processes.get(name);
    if (!entry) throw new Error(`no chaos process named '${name}'`);
    return entry;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
