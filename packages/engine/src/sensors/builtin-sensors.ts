import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { defineOperator } from '../plugin/operator.js';
import type { PluginOperator } from '../plugin/plugin.js';
import type { ObjectStore } from '../storage/object-store.js';
import { pokeExternalTask } from './external-task-sensor.js';
import { pokeFile } from './file-sensor.js';
import { pokeHttp } from './http-sensor.js';
import { pokeObject } from './object-sensor.js';
import {
  dateTimeSensorArgsSchema,
  externalTaskSensorArgsSchema,
  fileSensorArgsSchema,
  httpSensorArgsSchema,
  objectSensorArgsSchema,
  timeDeltaSensorArgsSchema,
  timeSensorArgsSchema,
} from './sensor-args.js';
import { pokeDateTime, pokeTime, pokeTimeDelta } from './time-sensors.js';

/**
 * The pokes of the built-in sensors, as operators of the built-in plugin (`tributary.fileSensor`, …):
 * each is one poke; the worker calls it again per the task's `sensor` options.
 */
export function builtinSensors(db: Kysely<Database>, objectStore: ObjectStore): Record<string, PluginOperator> {
  return {
    timeSensor: defineOperator({ args: timeSensorArgsSchema, description: 'waits for a time of day', run: (args, context) => pokeTime(args, context) }),
    dateTimeSensor: defineOperator({ args: dateTimeSensorArgsSchema, description: 'waits for a date and time', run: (args, context) => pokeDateTime(args, context) }),
    timeDeltaSensor: defineOperator({
      args: timeDeltaSensorArgsSchema,
      description: "waits until a delay after the run's data interval",
      run: (args, context) => pokeTimeDelta(args, context),
    }),
    externalTaskSensor: defineOperator({
      args: externalTaskSensorArgsSchema,
      description: "waits for another DAG's run or tasks",
      run: (args, context) => pokeExternalTask(args, context, db),
    }),
    fileSensor: defineOperator({
      args: fileSensorArgsSchema,
      description: 'waits for a file or glob on the worker',
      run: (args, context, runtime) => pokeFile(args, context, runtime.projectDir),
    }),
    objectSensor: defineOperator({
      args: objectSensorArgsSchema,
      description: "waits for an object in the engine's object store",
      run: (args, context) => pokeObject(args, context, objectStore),
    }),
    httpSensor: defineOperator({ args: httpSensorArgsSchema, description: 'waits for an HTTP condition', run: (args, context) => pokeHttp(args, context, db) }),
  };
}
