import { Writable } from 'node:stream';
import { ApiException, CoreV1Api, Log, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubernetesApiError } from '../errors.js';
import { POD_LABELS } from './pod-spec.js';

/** Options of a log request. */
export interface PodLogRequest {
  follow: boolean;
  /** RFC 3339 time; only lines from then on. */
  sinceTime?: string;
  tailLines?: number;
}

/** The API's `Status` message from an error body, or the error's own message. */
function apiMessage(error: unknown): { status: number | null; message: string } {
  if (error instanceof ApiException) {
    const body: unknown = (error as ApiException<unknown>).body;
    let message = '';
    if (typeof body === 'string' && body) {
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        message = body;
      }
    } else if (body && typeof body === 'object' && 'message' in body) {
      message = String((body as { message: unknown }).message);
    }
    return { status: error.code, message: message || error.message.split('\n')[1]?.replace(/^Message: /, '') || 'request failed' };
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return { status: null, message: cause?.message ?? (error as Error).message ?? String(error) };
}

/**
 * The pod operations Tributary uses, through `@kubernetes/client-node`: create, read, list by label,
 * watch one pod, follow its log, label it, delete it. Errors become {@link KubernetesApiError}s naming
 * the operation and carrying the API's message.
 */
export class PodClient {
  readonly #api: CoreV1Api;
  readonly #watch: Watch;
  readonly #log: Log;
  readonly #server: string;

  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(CoreV1Api);
    this.#watch = new Watch(kc);
    this.#log = new Log(kc);
    this.#server = kc.getCurrentCluster()?.server ?? '?';
  }

  async #call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const { status, message } = apiMessage(error);
      throw new KubernetesApiError(operation, status, status === null ? `cannot reach ${this.#server}: ${message}` : message, { cause: error });
    }
  }

  /** Create a pod. */
  create(pod: V1Pod): Promise<V1Pod> {
    const namespace = pod.metadata!.namespace!;
    return this.#call(`create pod ${namespace}/${pod.metadata!.name}`, () => this.#api.createNamespacedPod({ namespace, body: pod }));
  }

  /** A pod, or null when it does not exist. */
  async read(namespace: string, name: string): Promise<V1Pod | null> {
    try {
      return await this.#call(`read pod ${namespace}/${name}`, () => this.#api.readNamespacedPod({ namespace, name }));
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** Pods matching a label selector. */
  async list(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const list = await this.#call(`list pods in ${namespace} (${labelSelector})`, () => this.#api.listNamespacedPod({ namespace, labelSelector }));
    return list.items;
  }

  /** Delete a pod; one that is already gone is fine. */
  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.#call(`delete pod ${namespace}/${name}`, () => this.#api.deleteNamespacedPod({ namespace, name }));
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) return;
      throw error;
    }
  }

  /** Label a kept pod as checked: a try took its outcome, so no later try reattaches to it. */
  async markChecked(namespace: string, name: string): Promise<void> {
    const path = `/metadata/labels/${POD_LABELS.checked.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    await this.#call(`label pod ${namespace}/${name}`, () =>
      this.#api.patchNamespacedPod({ namespace, name, body: [{ op: 'add', path, value: 'true' }] }),
    );
  }

  /**
   * Watch one pod from `resourceVersion` on, calling `onEvent` per event (`ADDED`, `MODIFIED`,
   * `DELETED`, `ERROR`); resolves when the server ends the watch (after `timeoutSeconds`), `signal`
   * aborts, or `onEvent` returns `'stop'`.
   */
  async watch(
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    onEvent: (type: string, pod: V1Pod) => 'stop' | void,
    signal: AbortSignal,
    timeoutSeconds = 50,
  ): Promise<void> {
    if (signal.aborted) return;
    let controller: AbortController | undefined;
    let stopRequested = false;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => controller?.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (error: unknown): void => {
        signal.removeEventListener('abort', onAbort);
        if (error && !signal.aborted && !stopRequested) {
          const { status, message } = apiMessage(error);
          const code = (error as { statusCode?: number }).statusCode ?? status;
          reject(new KubernetesApiError(`watch pod ${namespace}/${name}`, code ?? null, message, { cause: error }));
        } else resolve();
      };
      this.#watch
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
          { fieldSelector: `metadata.name=${name}`, resourceVersion, timeoutSeconds, allowWatchBookmarks: true },
          (type, object: V1Pod) => {
            if (type === 'BOOKMARK') return;
            if (onEvent(type, object) === 'stop') {
              stopRequested = true;
              controller?.abort();
            }
          },
          settle,
        )
        .then((c) => {
          controller = c;
          if (signal.aborted || stopRequested) c.abort();
        }, settle);
    });
  }

  /**
   * Stream a container's log into `onData` (timestamped lines, as the API sends them). Resolves when
   * the stream ends (the container exited, or the server closed it), or `signal` aborts.
   */
  async streamLog(namespace: string, name: string, container: string, request: PodLogRequest, onData: (chunk: string) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          onData(chunk.toString('utf8'));
          callback();
        },
      });
      sink.on('finish', finish);
      sink.on('unpipe', finish);
      sink.on('error', finish);
      // The client pipes the response into the sink without handling its errors; an aborted or
      // broken stream would otherwise be an uncaught error.
      sink.on('pipe', (source: NodeJS.ReadableStream) => source.on('error', finish));
      let controller: AbortController | undefined;
      const onAbort = (): void => {
        controller?.abort();
        finish();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#call(`read log of pod ${namespace}/${name}`, () =>
        this.#log.log(namespace, name, container, sink, {
          follow: request.follow,
          timestamps: true,
          sinceTime: request.sinceTime,
          tailLines: request.tailLines,
        }),
      ).then(
        (c) => {
          controller = c;
          if (signal.aborted) c.abort();
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
