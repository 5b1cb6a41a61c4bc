import { randomUUID } from 'node:crypto';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';

/** What a {@link FakePod} needs of the fake cluster it is in (`FakeKubernetes`). */
export interface PodCluster {
  readonly pods: ReadonlyMap<string, FakePod>;
  /** Tell watchers the pod changed. */
  changed(pod: FakePod, type: 'MODIFIED'): void;
}

/** A pod in the fake cluster; the test moves it through the states a kubelet would. */
export class FakePod {
  readonly raw: V1Pod;
  readonly logLines: { at: string; text: string }[] = [];
  readonly followers = new Set<{ write: (line: { at: string; text: string }) => unknown; end: () => void }>();
  readonly #cluster: PodCluster;
  #process: import('node:child_process').ChildProcess | null = null;
  #sequence = 0;

  constructor(cluster: PodCluster, raw: V1Pod) {
    this.#cluster = cluster;
    this.raw = raw;
  }

  get key(): string {
    return `${this.raw.metadata!.namespace}/${this.raw.metadata!.name}`;
  }

  get name(): string {
    return this.raw.metadata!.name!;
  }

  get container(): string {
    return this.raw.spec!.containers[0]!.name;
  }

  /** Still in the cluster (not deleted). */
  get exists(): boolean {
    return this.#cluster.pods.get(this.key) === this;
  }

  #set(status: V1PodStatus): void {
    if (!this.exists) return;
    this.raw.status = { ...this.raw.status, ...status };
    this.#cluster.changed(this, 'MODIFIED');
  }

  #containerStatus(state: object, extra: object = {}): V1PodStatus['containerStatuses'] {
    const c = this.raw.spec!.containers[0]!;
    return [{ name: c.name, image: c.image!, imageID: '', ready: false, restartCount: 0, started: false, state, ...extra } as never];
  }

  /** Bound to a node; the container is being created. */
  schedule(): void {
    this.#set({
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: this.#containerStatus({ waiting: { reason: 'ContainerCreating' } }),
    });
  }

  /** The scheduler cannot place it. */
  unschedulable(message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.'): void {
    this.#set({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] });
  }

  /** The container waits with `reason` (ErrImagePull, ImagePullBackOff, CreateContainerConfigError, …). */
  waiting(reason: string, message: string): void {
    this.#set({
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: this.#containerStatus({ waiting: { reason, message } }),
    });
  }

  /** The container runs. */
  start(): void {
    this.#set({
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }],
      startTime: new Date().toISOString() as never,
      containerStatuses: this.#containerStatus({ running: { startedAt: new Date().toISOString() } }, { ready: true, started: true }),
    });
  }

  /** The container prints a line. */
  log(text: string): void {
    const now = new Date().toISOString();
    const line = { at: `${now.slice(0, 23)}${String(++this.#sequence % 1_000_000).padStart(6, '0')}Z`, text };
    this.logLines.push(line);
    for (const follower of this.followers) follower.write(line);
  }

  /** The container exits; `message` is what it wrote to /dev/termination-log. */
  terminate(exitCode: number, options: { message?: string; reason?: string } = {}): void {
    this.#set({
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: this.#containerStatus({
        terminated: {
          exitCode,
          reason: options.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
          message: options.message,
          startedAt: new Date().toISOString(),
          finishedAt: new Date().toISOString(),
          containerID: `containerd://${randomUUID().replaceAll('-', '')}`,
        },
      }),
    });
    this.endLogs();
  }

  /** End following log streams. @internal */
  endLogs(): void {
    for (const follower of this.followers) follower.end();
    this.followers.clear();
  }

  /**
   * Be the kubelet for real: run the container's command as a local process (`resolve` maps the
   * image's command to a local one), its output as the container log, its exit as the termination.
   */
  async runProcess(resolve: (command: string[]) => { file: string; args: string[] }, env: NodeJS.ProcessEnv, cwd?: string): Promise<void> {
    const { spawn } = await import('node:child_process');
    const { createInterface } = await import('node:readline');
    const c = this.raw.spec!.containers[0]!;
    const { file, args } = resolve([...(c.command ?? []), ...(c.args ?? [])]);
    this.schedule();
    this.start();
    const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => this.log(line));
    child.on('exit', (code, signal) => {
      this.#process = null;
      setTimeout(() => this.terminate(code ?? (signal === 'SIGKILL' ? 137 : 143)), 50);
    });
  }

  /** Stop the process of {@link runProcess} (the pod was deleted). @internal */
  stopProcess(): void {
    this.#process?.kill('SIGTERM');
  }
}
