import type { Command } from 'commander';
import { createAssetEvent, listAssetEvents, listAssets } from '../../service/assets.js';
import { cliActor } from '../../service/audit.js';
import { withEngine } from '../context.js';
import { parseJsonOption, table, UsageError } from '../output.js';

const list = (values: readonly string[]): string => (values.length > 0 ? values.join(', ') : '-');

/** `tributary assets list|events|create-event` */
export function registerAssetCommands(program: Command): void {
  const assets = program.command('assets').description('data-aware scheduling: assets, their events, and the DAGs they trigger');

  assets
    .command('list')
    .description('parses the DAG folders and lists every asset: the tasks that update it, the DAGs scheduled on it, its events')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        await engine.parseDags();
        const rows = await listAssets(engine.db);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('No assets (list them in a task\'s outlets or a DAG\'s schedule: { assets: [...] })\n');
          return;
        }
        process.stdout.write(
          `${table(
            ['uri', 'updated by', 'schedules', 'queued for', 'events', 'last event'],
            rows.map((r) => [r.uri, list(r.producers), list(r.consumers), list(r.queuedFor), r.events, r.lastEventAt?.toISOString() ?? '-']),
          )}\n`,
        );
      });
    });

  assets
    .command('events [uri]')
    .description('asset events, newest first: where each came from and the runs it triggered')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (uri: string | undefined, options: { limit: string; json?: boolean }, command: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit: expected an integer >= 1, got '${options.limit}'`);
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const events = await listAssetEvents(engine.db, { uri, limit });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
          return;
        }
        if (events.length === 0) {
          process.stdout.write(`No asset events${uri ? ` for ${uri}` : ''}\n`);
          return;
        }
        process.stdout.write(
          `${table(
            ['id', 'uri', 'at', 'source', 'extra', 'triggered'],
            events.map((e) => [
              e.id,
              e.uri,
              e.createdAt.toISOString(),
              e.source.dagId ? `${e.source.dagId}/${e.source.runId}/${e.source.taskId}${(e.source.mapIndex ?? -1) >= 0 ? `[${e.source.mapIndex}]` : ''}` : 'by hand',
              Object.keys(e.extra).length > 0 ? JSON.stringify(e.extra) : '-',
              list(e.consumedBy),
            ]),
          )}\n`,
        );
      });
    });

  assets
    .command('create-event <uri>')
    .description('record an event of an asset by hand, as if a task had updated it: DAGs scheduled on it are queued')
    .option('--extra <json>', 'JSON object attached to the event')
    .option('--json', 'print JSON')
    .action(async (uri: string, options: { extra?: string; json?: boolean }, command: Command) => {
      const extra = options.extra === undefined ? {} : parseJsonOption(options.extra, '--extra');
      if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new UsageError('--extra: expected a JSON object');
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        await engine.parseDags();
        const event = await createAssetEvent(engine.db, { uri, extra: extra as Record<string, unknown> }, cliActor());
        if (options.json) {
          process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `Asset event ${event.id} created for ${uri}; ${event.queuedFor.length > 0 ? `queued for ${event.queuedFor.join(', ')} (the scheduler creates their runs once their asset condition holds)` : 'no DAG is scheduled on it'}\n`,
        );
      });
    });
}
