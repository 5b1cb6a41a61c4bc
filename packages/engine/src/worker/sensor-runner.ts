import { interpretPoke, nextPokeDelayMs, SensorFailedError, SensorTimeoutError, type ResolvedSensorOptions } from '../dag/sensor-options.js';
import { SkipTaskError } from '../errors.js';
import type { SensorProgress } from '../scheduler/sensor-transitions.js';
import type { TaskLogWriter } from './task-log.js';

/** A sensor in reschedule mode whose poke came back not done: its try pauses until `at`. */
export class SensorReschedule {
  constructor(
    /** When the next poke is due. */
    readonly at: Date,
    /** Pokes of the try so far, this one included. */
    readonly pokes: number,
    /** When the poke that came back not done began (`Date.now()`). */
    readonly pokeStartedAt: number,
  ) {}
}

/** What {@link pokeUntilDone} needs. */
export interface SensorRun {
  readonly sensor: ResolvedSensorOptions;
  readonly where: { dagId: string; taskId: string };
  /** Where the try stands (reschedule mode: read from `task_reschedule`); a fresh try has 0 pokes. */
  readonly progress: SensorProgress;
  /** One poke: the task's function or operator, returning a boolean or `{ done, value }`. */
  readonly poke: () => Promise<unknown>;
  readonly signal: AbortSignal;
  readonly log: TaskLogWriter;
}

/** Wait `ms`, rejecting with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Poke until the sensor's condition is met, as Airflow's `BaseSensorOperator.execute` does: resolve
 * with the poke's value when done; after a poke that is not, throw {@link SensorTimeoutError} (or
 * `SkipTaskError` with `softFail`) once `timeout` has passed since the try's first poke, else wait
 * the next interval — in this try (`poke` mode) or by resolving a {@link SensorReschedule}
 * (`reschedule` mode). An exception from a poke propagates: the try fails with normal retries (a
 * {@link SensorFailedError} skips the sensor instead with `softFail`).
 */
export async function pokeUntilDone(run: SensorRun): Promise<unknown> {
  const { sensor, where, log } = run;
  const firstPokeAt = Date.now() - run.progress.elapsedMs;
  let pokes = run.progress.pokes;
  const into = `${Math.round(run.progress.elapsedMs)} ms into its ${sensor.timeoutMs} ms timeout`;
  if (pokes > 0) log.write('info', `Resuming the sensor after ${pokes} poke(s), ${into}`);
  else if (run.progress.elapsedMs > 0) log.write('info', `Retrying the sensor ${into} (counted from the first try's first poke)`);
  for (;;) {
    pokes++;
    const pokeStartedAt = Date.now();
    let poked: unknown;
    try {
      poked = await run.poke();
    } catch (error) {
      if (error instanceof SensorFailedError && sensor.softFail) throw new SkipTaskError(`${error.message}; skipped because of softFail`);
      throw error;
    }
    const { done, value } = interpretPoke(poked, where);
    if (done) {
      log.write('info', `Sensor condition met at poke ${pokes}`);
      return value;
    }
    const elapsed = Date.now() - firstPokeAt;
    if (elapsed >= sensor.timeoutMs) {
      if (sensor.softFail) {
        throw new SkipTaskError(`sensor timed out after ${pokes} poke(s) over ${elapsed} ms (timeout ${sensor.timeoutMs} ms); skipped because of softFail`);
      }
      throw new SensorTimeoutError(where.dagId, where.taskId, sensor.timeoutMs, pokes);
    }
    const delay = nextPokeDelayMs(sensor, pokes, elapsed);
    if (sensor.mode === 'reschedule') {
      log.write('info', `Poke ${pokes}: condition not met; rescheduled, next poke in ${delay} ms`);
      return new SensorReschedule(new Date(Date.now() + delay), pokes, pokeStartedAt);
    }
    log.write('info', `Poke ${pokes}: condition not met; next poke in ${delay} ms`);
    await pause(delay, run.signal);
  }
}
