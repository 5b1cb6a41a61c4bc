import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { FakePod } from './fake-pod.js';

export { FakePod };

/**
 * A local HTTP server speaking the part of the Kubernetes API that Tributary's pod code uses, with the
 * request and response shapes of the API reference (core/v1 Pod, PodList, Status, watch events):
 *
 * - `POST   /api/v1/namespaces/{ns}/pods`                       create (201; 409 AlreadyExists)
 * - `GET    /api/v1/namespaces/{ns}/pods/{name}`                read (404 NotFound)
 * - `GET    /api/v1/namespaces/{ns}/pods?labelSelector=…`       list (equality, `!=`, existence)
 * - `GET    /api/v1/namespaces/{ns}/pods?watch=true&fieldSelector=metadata.name=…&resourceVersion=…`
 *                                                                 watch (JSON lines of `{type, object}`)
 * - `GET    /api/v1/namespaces/{ns}/pods/{name}/log?container=…&follow=…&timestamps=…&sinceTime=…&tailLines=…`
 *                                                                 log (400 while the container waits)
 * - `PATCH  /api/v1/namespaces/{ns}/pods/{name}`                 JSON patch of labels
 * - `DELETE /api/v1/namespaces/{ns}/pods/{name}`                 graceful delete, then DELETED
 *
 * There is no kubelet: each test scripts what happens to a created pod through {@link FakePod}
 * (scheduled, image pull errors, running, log lines, termination with a message) in `onCreate`.
 */
export class FakeKubernetes {
  readonly pods = new Map<string, FakePod>();
  /** Every pod created, in order (also those deleted since). */
  readonly created: FakePod[] = [];
  /** `namespace/name` of every pod deleted through the API. */
  readonly deleted: string[] = [];
  readonly requests: { method: string; path: string; query: Record<string, string> }[] = [];
  /** Called for each created pod: the test's script of what the cluster does with it. */
  onCreate: (pod: FakePod) => void | Promise<void> = () => {};
  /** When set, follow-mode log streams are cut after this many new lines (as a dropped connection would). */
  cutLogStreamsAfter: number | null = null;
  #server: Server;
  #resourceVersion = 1000;
  #events: { rv: number; type: string; key: string; object: V1Pod }[] = [];
  #watchers = new Set<{ key: string; send: (type: string, object: V1Pod, rv: number) => void }>();
  url = '';
  kubeconfigPath = '';
  #dir = '';

  constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.#status(res, 500, 'InternalError', String(error));
        else res.end();
      });
    });
  }

  /** Listen on 127.0.0.1 and write a kubeconfig (context `fake`, namespace `tasks`) pointing here. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    this.#dir = mkdtempSync(join(tmpdir(), 'fake-k8s-'));
    this.kubeconfigPath = join(this.#dir, 'kubeconfig.yaml');
    writeFileSync(
      this.kubeconfigPath,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
        'users:',
        '- name: tester\n  user:\n    token: fake-token',
        'contexts:',
        '- name: other\n  context:\n    cluster: fake\n    user: tester\n    namespace: elsewhere',
        '- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: tasks',
        'current-context: other',
        '',
      ].join('\n'),
    );
    return this;
  }

  async close(): Promise<void> {
    for (const pod of this.pods.values()) pod.stopProcess();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Forget pods, requests and the script between tests. */
  reset(): void {
    for (const pod of this.pods.values()) pod.stopProcess();
    this.pods.clear();
    this.created.length = 0;
    this.deleted.length = 0;
    this.requests.length = 0;
    this.onCreate = () => {};
    this.cutLogStreamsAfter = null;
  }

  /** The pod created at position `index`, once it exists. */
  pod(index = 0): FakePod | undefined {
    return this.created[index];
  }

  /** Requests of a kind (e.g. `'POST'`, `'DELETE'`). */
  count(method: string, pathPattern = /\/pods(\/[^/]+)?$/): number {
    return this.requests.filter((r) => r.method === method && pathPattern.test(r.path)).length;
  }

  /** Record a change of a pod and tell its watchers. @internal */
  changed(pod: FakePod, type: 'ADDED' | 'MODIFIED' | 'DELETED'): void {
    const rv = ++this.#resourceVersion;
    pod.raw.metadata!.resourceVersion = String(rv);
    const object = structuredClone(pod.raw);
    this.#events.push({ rv, type, key: pod.key, object });
    for (const watcher of this.#watchers) if (watcher.key === pod.key) watcher.send(type, object, rv);
  }

  /** Remove a pod (after a graceful delete). @internal */
  remove(pod: FakePod): void {
    if (this.pods.get(pod.key) !== pod) return;
    this.pods.delete(pod.key);
    pod.stopProcess();
    pod.endLogs();
    this.changed(pod, 'DELETED');
  }

  #status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  #json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method!, path: url.pathname, query });
    if (req.headers.authorization !== 'Bearer fake-token') return this.#status(res, 401, 'Unauthorized', 'Unauthorized');
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/log)?$/.exec(url.pathname);
    if (!match) return this.#status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const namespace = decodeURIComponent(match[1]!);
    const name = match[2] ? decodeURIComponent(match[2]) : undefined;
    const body = ['POST', 'PATCH', 'PUT'].includes(req.method!) ? await readBody(req) : undefined;

    if (!name) {
      if (req.method === 'POST') return this.#create(res, namespace, JSON.parse(body!) as V1Pod);
      if (req.method === 'GET' && query.watch === 'true') return this.#watch(req, res, namespace, query);
      if (req.method === 'GET') return this.#list(res, namespace, query.labelSelector);
      return this.#status(res, 405, 'MethodNotAllowed', `${req.method} is not allowed here`);
    }
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) return this.#status(res, 404, 'NotFound', `pods "${name}" not found`);
    if (match[3]) return this.#log(req, res, pod, query);
    if (req.method === 'GET') return this.#json(res, 200, pod.raw);
    if (req.method === 'DELETE') {
      this.deleted.push(pod.key);
      if (!pod.raw.metadata!.deletionTimestamp) {
        pod.raw.metadata!.deletionTimestamp = new Date().toISOString() as never;
        pod.raw.metadata!.deletionGracePeriodSeconds = 30;
        this.changed(pod, 'MODIFIED');
        setTimeout(() => this.remove(pod), 20);
      }
      return this.#json(res, 200, pod.raw);
    }
    if (req.method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/json-patch+json') {
        return this.#status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json`);
      }
      for (const op of JSON.parse(body!) as { op: string; path: string; value: string }[]) {
        const labelPath = /^\/metadata\/labels\/(.+)$/.exec(op.path);
        if (op.op !== 'add' || !labelPath) return this.#status(res, 422, 'Invalid', `unsupported patch operation ${op.op} ${op.path}`);
        pod.raw.metadata!.labels = { ...pod.raw.metadata!.labels, [labelPath[1]!.replaceAll('~1', '/').replaceAll('~0', '~')]: op.value };
      }
      this.changed(pod, 'MODIFIED');
      return this.#json(res, 200, pod.raw);
    }
    return this.#status(res, 405, 'MethodNotAllowed', `${req.method} is not allowed here`);
  }

  #create(res: ServerResponse, namespace: string, body: V1Pod): void {
    const name = body.metadata?.name;
    if (body.kind !== 'Pod' || body.apiVersion !== 'v1' || !name) return this.#status(res, 400, 'BadRequest', 'expected a v1 Pod with a name');
    if (body.metadata?.namespace && body.metadata.namespace !== namespace) {
      return this.#status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
      return this.#status(res, 422, 'Invalid', `Pod "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`);
    }
    for (const [key, value] of Object.entries(body.metadata?.labels ?? {})) {
      if (value.length > 63 || !/^(|[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/.test(value)) {
        return this.#status(res, 422, 'Invalid', `Pod "${name}" is invalid: metadata.labels: Invalid value: "${value}" (label ${key})`);
      }
    }
    if (this.pods.has(`${namespace}/${name}`)) return this.#status(res, 409, 'AlreadyExists', `pods "${name}" already exists`);
    const raw: V1Pod = {
      ...structuredClone(body),
      metadata: { ...body.metadata, name, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() as never },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    } as V1Pod;
    const pod = new FakePod(this, raw);
    this.pods.set(pod.key, pod);
    this.created.push(pod);
    this.changed(pod, 'ADDED');
    this.#json(res, 201, pod.raw);
    void Promise.resolve().then(() => this.onCreate(pod));
  }

  #list(res: ServerResponse, namespace: string, selector: string | undefined): void {
    const items = [...this.pods.values()].filter((p) => p.raw.metadata!.namespace === namespace && matchesSelector(p.raw.metadata!.labels ?? {}, selector)).map((p) => p.raw);
    this.#json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.#resourceVersion) }, items });
  }

  #watch(req: IncomingMessage, res: ServerResponse, namespace: string, query: Record<string, string>): void {
    const name = /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? '')?.[1];
    if (!name) return this.#status(res, 400, 'BadRequest', 'this fake watches single pods: fieldSelector=metadata.name=<name> is required');
    const key = `${namespace}/${name}`;
    const from = Number(query.resourceVersion ?? 0);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const send = (type: string, object: V1Pod, rv: number): void => {
      if (rv > from) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    for (const event of this.#events) if (event.key === key) send(event.type, event.object, event.rv);
    const watcher = { key, send };
    this.#watchers.add(watcher);
    const timer = setTimeout(() => res.end(), Number(query.timeoutSeconds ?? 60) * 1000);
    req.on('close', () => {
      clearTimeout(timer);
      this.#watchers.delete(watcher);
    });
  }

  #log(req: IncomingMessage, res: ServerResponse, pod: FakePod, query: Record<string, string>): void {
    const container = query.container ?? pod.raw.spec!.containers[0]!.name;
    if (!pod.raw.spec!.containers.some((c) => c.name === container)) {
      return this.#status(res, 400, 'BadRequest', `container ${container} is not valid for pod ${pod.raw.metadata!.name}`);
    }
    const state = pod.raw.status?.containerStatuses?.[0]?.state;
    if (!state?.running && !state?.terminated) {
      const reason = state?.waiting?.reason ?? 'ContainerCreating';
      return this.#status(res, 400, 'BadRequest', `container "${container}" in pod "${pod.raw.metadata!.name}" is waiting to start: ${reason}`);
    }
    const since = query.sinceTime ? Date.parse(query.sinceTime) : null;
    let lines = pod.logLines.filter((l) => since === null || Math.floor(Date.parse(l.at) / 1000) * 1000 >= since);
    if (query.tailLines) lines = lines.slice(-Number(query.tailLines));
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    const format = (l: { at: string; text: string }): string => (query.timestamps === 'true' ? `${l.at} ${l.text}\n` : `${l.text}\n`);
    for (const line of lines) res.write(format(line));
    if (query.follow !== 'true' || state.terminated) return void res.end();
    // Lines printed from now on are sent as they come; the stream is cut after `cutLogStreamsAfter` of them.
    let live = 0;
    const follower = {
      write: (l: { at: string; text: string }) => {
        res.write(format(l));
        if (this.cutLogStreamsAfter !== null && ++live >= this.cutLogStreamsAfter) {
          pod.followers.delete(follower);
          res.end();
        }
      },
      end: () => res.end(),
    };
    pod.followers.add(follower);
    req.on('close', () => pod.followers.delete(follower));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Equality (`k=v`, `k==v`), inequality (`k!=v`) and existence (`k`, `!k`) label selectors. */
function matchesSelector(labels: Record<string, string>, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const t = term.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(t))) return labels[m[1]!] !== m[2];
    if ((m = /^([^!=]+)==?(.*)$/.exec(t))) return labels[m[1]!] === m[2];
    if (t.startsWith('!')) return !(t.slice(1) in labels);
    return t in labels;
  });
}
