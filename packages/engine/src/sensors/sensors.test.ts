import { describe, expect, it } from 'vitest';
import { dag } from '../dag/dag.js';
import { serializeDag } from '../dag/serialize.js';
import { command, dateTimeSensor, externalTaskSensor, fileSensor, httpSensor, objectSensor, timeDeltaSensor, timeSensor } from '../operators/index.js';
import { checkBody, valueAtPath } from './http-sensor.js';
import { pokeDateTime, pokeTimeDelta, timeSensorTarget } from './time-sensors.js';

const quiet = { info: () => {} } as never;
const context = (end: string) => ({ dataInterval: { start: new Date(end), end: new Date(end) }, log: quiet });

describe('time sensors', () => {
  it('wait for the time of day on the day the data interval ends, in the given zone', () => {
    expect(timeSensorTarget({ time: '06:30' }, new Date('2024-01-15T23:00:00Z')).toISOString()).toBe('2024-01-15T06:30:00.000Z');
    // 03:00 UTC on Jan 2 is still Jan 1 in New York (EST, UTC-5).
    expect(timeSensorTarget({ time: '06:30', timezone: 'America/New_York' }, new Date('2024-01-02T03:00:00Z')).toISOString()).toBe('2024-01-01T11:30:00.000Z');
    // Summer time: EDT, UTC-4.
    expect(timeSensorTarget({ time: '17:30:15', timezone: 'America/New_York' }, new Date('2024-07-04T16:00:00Z')).toISOString()).toBe('2024-07-04T21:30:15.000Z');
    // 02:30 does not exist on the spring-forward day: the instant falls an hour on, as wall clocks do.
    expect(timeSensorTarget({ time: '02:30', timezone: 'America/New_York' }, new Date('2024-03-10T12:00:00Z')).toISOString()).toBe('2024-03-10T07:30:00.000Z');
    // 01:30 happens twice on the fall-back day: the first one (EDT) counts.
    expect(timeSensorTarget({ time: '01:30', timezone: 'America/New_York' }, new Date('2024-11-03T12:00:00Z')).toISOString()).toBe('2024-11-03T05:30:00.000Z');
  });

  it('compare against now: a date and time, or a delta after the data interval', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    expect(pokeDateTime({ target: '2024-05-01T11:59:59Z' }, context('2024-05-01T00:00:00Z'), now)).toBe(true);
    expect(pokeDateTime({ target: '2024-05-01T08:30:00', timezone: 'America/New_York' }, context('2024-05-01T00:00:00Z'), now)).toBe(false);
    expect(pokeDateTime({ target: '2024-05-01T07:30:00', timezone: 'America/New_York' }, context('2024-05-01T00:00:00Z'), now)).toBe(true);
    expect(pokeTimeDelta({ delta: '2h' }, context('2024-05-01T10:00:01Z'), now)).toBe(false);
    expect(pokeTimeDelta({ delta: '2h' }, context('2024-05-01T10:00:00Z'), now)).toBe(true);
  });
});

describe('the HTTP response check', () => {
  it('reads dotted JSON paths and explains what did not match', () => {
    expect(valueAtPath({ data: { items: [{ id: 7 }] } }, 'data.items.0.id')).toBe(7);
    expect(valueAtPath({ data: null }, 'data.items')).toBeUndefined();
    expect(checkBody({ jsonPath: 'status', equals: 'done' }, '{"status":"done"}')).toEqual({ ok: true, why: '' });
    expect(checkBody({ jsonPath: 'status', equals: 'done' }, '{"status":"pending"}').why).toBe('status is "pending", not "done"');
    expect(checkBody({ jsonPath: 'ready' }, '{"ready":false}').ok).toBe(false);
    expect(checkBody({ jsonPath: 'ready' }, 'not json').why).toBe('the body is not JSON');
    expect(checkBody({ contains: 'OK', matches: '^rows=\\d+' }, 'rows=12 OK')).toMatchObject({ ok: true });
    expect(checkBody({ matches: '^rows=\\d+' }, 'none').why).toBe('the body does not match /^rows=\\d+/');
  });
});

describe('the sensor operators in a DAG file', () => {
  it('are sensors: their sensor options are resolved and stored with the task', () => {
    const d = dag({ id: 'sensing' });
    d.task('wait', fileSensor({ path: 'data/*.csv' }), { sensor: { mode: 'reschedule', pokeInterval: '5m', timeout: '2h', softFail: true } });
    d.task('plain', fileSensor({ path: 'x' }));
    const tasks = Object.fromEntries(serializeDag(d).tasks.map((t) => [t.taskId, t]));
    expect(tasks.wait).toMatchObject({ operator: 'tributary.fileSensor', args: { path: 'data/*.csv' }, sensor: { mode: 'reschedule', pokeIntervalMs: 300_000, timeoutMs: 7_200_000, softFail: true } });
    expect(tasks.plain!.sensor).toMatchObject({ mode: 'poke', pokeIntervalMs: 60_000 });
    expect(() => d.task('not_a_sensor', command({ command: 'true' }), { sensor: { mode: 'poke' } } as never)).toThrow(
      "option 'sensor': is only for sensors (Dag.sensor() or a sensor operator)",
    );
  });

  it.each([
    [() => timeSensor({ time: '25:00' }), "timeSensor(): option 'time': expected a time of day such as '06:30' or '06:30:15'"],
    [() => timeSensor({ time: '06:00', timezone: 'Mars/Olympus' }), "timeSensor(): option 'timezone': expected an IANA time zone"],
    [() => dateTimeSensor({ target: 'next tuesday' }), "dateTimeSensor(): option 'target': expected an ISO 8601 date and time"],
    [() => timeDeltaSensor({ delta: 'soon' }), "timeDeltaSensor(): option 'delta': expected a duration such as '30s' or '2h'"],
    [() => externalTaskSensor({ externalDagId: 'a', externalTaskId: 'x', externalTaskIds: ['y'] }), 'give at most one of externalTaskId, externalTaskIds, externalTaskGroupId'],
    [() => externalTaskSensor({ externalDagId: 'a', allowedStates: ['done'] }), "externalTaskSensor(): option 'allowedStates.0'"],
    [() => objectSensor({ bucket: 'b' }), "objectSensor(): option 'key': give exactly one of key and prefix"],
    [() => httpSensor({}), "httpSensor(): option 'url': give exactly one of url and connection"],
    [() => httpSensor({ url: 'not a url' }), "httpSensor(): option 'url': expected an absolute URL"],
    [() => httpSensor({ url: 'http://x', endpoint: '/y' }), "httpSensor(): option 'endpoint': endpoint goes with a connection"],
    [() => httpSensor({ url: 'http://x', responseCheck: { matches: '(' } }), "httpSensor(): option 'responseCheck.matches': expected a valid regular expression"],
    [() => fileSensor({ path: 'x', recursive: true } as never), "fileSensor(): unknown option(s) 'recursive'"],
  ])('reject bad arguments where the DAG is defined, naming the option (%#)', (make, message) => {
    expect(make).toThrow(message);
  });

  it('leave templates to be checked once rendered', () => {
    expect(dateTimeSensor({ target: '{{ data_interval_end }}' }).args).toEqual({ target: '{{ data_interval_end }}' });
    expect(httpSensor({ url: '{{ params.url }}' }).kind).toBe('sensor');
  });
});
