import { defaultNamespace, loadKubeConfig, type ResolvedKubernetesConfig } from './kubernetes-config.js';
import type { PodClient } from './pod-client.js';

/** A connection to the cluster: the pod client and the namespace of pods that name none. */
export interface KubernetesConnection {
  readonly client: PodClient;
  readonly namespace: string;
}

/**
 * The engine's access to Kubernetes: its resolved configuration, and a client loaded on first use (so
 * an engine that never starts a pod never loads `@kubernetes/client-node` nor reads a kubeconfig — DAG
 * files importing `@tributary/engine` stay quick to parse). A failed load is retried next time.
 */
export class KubernetesAccess {
  readonly config: ResolvedKubernetesConfig;
  #connection: Promise<KubernetesConnection> | null = null;

  constructor(config: ResolvedKubernetesConfig) {
    this.config = config;
  }

  /** The client; rejects with a `ConfigError` saying what could not be loaded. */
  connect(): Promise<KubernetesConnection> {
    if (!this.#connection) {
      const connecting = (async () => {
        const [{ KubeConfig }, { PodClient }] = await Promise.all([import('@kubernetes/client-node'), import('./pod-client.js')]);
        const kc = loadKubeConfig(this.config, new KubeConfig());
        return { client: new PodClient(kc), namespace: defaultNamespace(this.config, kc) };
      })();
      connecting.catch(() => {
        if (this.#connection === connecting) this.#connection = null;
      });
      this.#connection = connecting;
    }
    return this.#connection;
  }
}
