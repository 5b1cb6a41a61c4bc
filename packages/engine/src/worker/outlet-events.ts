import type { OutletEvent, OutletEvents } from '../dag/types.js';
import { TributaryError } from '../errors.js';
import type { AssetEventInput } from '../scheduler/asset-events.js';

/** An outlet event's `extra` is not a JSON object within the size limit, or names no outlet of the task. */
export class OutletEventError extends TributaryError {}

/**
 * The asset events a try records for its task's outlets when it succeeds (`ctx.outletEvents`): one
 * per outlet, each with the `extra` the task attached (empty unless it did).
 */
export class OutletEventCollector implements OutletEvents {
  readonly #where: { dagId: string; taskId: string };
  readonly #outlets: readonly string[];
  readonly #events = new Map<string, OutletEvent>();

  constructor(where: { dagId: string; taskId: string }, outlets: readonly string[]) {
    this.#where = where;
    this.#outlets = outlets;
  }

  get(uri: string): OutletEvent {
    let event = this.#events.get(uri);
    if (event) return event;
    if (!this.#outlets.includes(uri)) {
      throw new OutletEventError(
        'OUTLET_UNKNOWN',
        `DAG '${this.#where.dagId}': task '${this.#where.taskId}': '${uri}' is not one of its outlets (${this.#outlets.length > 0 ? this.#outlets.join(', ') : 'it has none; list assets in the outlets option'})`,
        { location: { ...this.#where, field: 'outlets' } },
      );
    }
    event = { uri, extra: {} };
    this.#events.set(uri, event);
    return event;
  }

  /** The events to record, one per outlet; throws {@link OutletEventError} for an `extra` that cannot be stored. */
  events(maxBytes: number): AssetEventInput[] {
    return this.#outlets.map((uri) => {
      const extra = this.#events.get(uri)?.extra ?? {};
      const fail = (problem: string): never => {
        throw new OutletEventError('OUTLET_EXTRA_INVALID', `DAG '${this.#where.dagId}': task '${this.#where.taskId}': the extra of outlet '${uri}' ${problem}`, {
          location: { ...this.#where, field: 'outlets' },
        });
      };
      if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) fail(`must be an object, got ${Array.isArray(extra) ? 'an array' : extra === null ? 'null' : typeof extra}`);
      let json: string;
      try {
        json = JSON.stringify(extra);
      } catch (error) {
        return fail(`is not JSON-serializable: ${(error as Error).message}`);
      }
      if (Buffer.byteLength(json) > maxBytes) fail(`is ${Buffer.byteLength(json)} bytes, over the limit of ${maxBytes} bytes (xcomMaxBytes)`);
      return { uri, extra: JSON.parse(json) as Record<string, unknown> };
    });
  }
}
