import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { resolveEngineConfig, type EngineConfig } from '../config.js';
import { Tributary } from '../engine.js';
import { ConfigError } from '../errors.js';
import { PROJECT_CONFIG_FILE, readProjectConfig } from './project-config.js';

/** Options every command accepts. */
export interface GlobalOptions {
  dagsFolder?: string[];
  databaseUrl?: string;
  logLevel?: EngineConfig['logLevel'];
}

/** Build a logger for the CLI: human-readable on a terminal, JSON lines otherwise. */
export function cliLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    return pino({ level }, pretty({ destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return pino({ level, base: { service: 'tributary' } }, pino.destination(2));
}

/** Engine options from the project file, then the command line (which wins). */
export function engineOptions(command: Command, defaults: { logLevel: NonNullable<EngineConfig['logLevel']> }): EngineConfig {
  const global = command.optsWithGlobals<GlobalOptions>();
  const project = readProjectConfig(process.cwd());
  const options: EngineConfig = { ...project };
  if (global.dagsFolder?.length) options.dagsFolders = global.dagsFolder;
  if (global.databaseUrl) options.databaseUrl = global.databaseUrl;
  const level = global.logLevel ?? project.logLevel ?? (process.env.TRIBUTARY_LOG_LEVEL as EngineConfig['logLevel']) ?? defaults.logLevel;
  try {
    // Validate early so a bad option is reported before anything starts.
    resolveEngineConfig({ ...options, logLevel: level });
  } catch (error) {
    if (error instanceof ConfigError && Object.keys(project).length > 0) {
      throw new ConfigError(`${error.message} (check ${PROJECT_CONFIG_FILE} and the command line)`);
    }
    throw error;
  }
  options.logLevel = level;
  options.logger = cliLogger(level);
  return options;
}

/** Open an engine for a command and always close it afterwards. */
export async function withEngine<T>(
  command: Command,
  defaults: { logLevel: NonNullable<EngineConfig['logLevel']> },
  work: (engine: Tributary) => Promise<T>,
): Promise<T> {
  const engine = await Tributary.open(engineOptions(command, defaults));
  try {
    return await work(engine);
  } finally {
    await engine.close();
  }
}

/**
 * Keep a long-running command alive until SIGINT or SIGTERM, then run `beforeClose` (stop serving
 * HTTP) and close the engine. A second signal exits at once.
 */
export function untilSignal(engine: Tributary, beforeClose?: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        engine.log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      engine.log.info({ signal }, 'shutting down (send again to force)');
      void (beforeClose ?? (async () => {}))()
        .catch((error: unknown) => engine.log.warn({ err: error }, 'stopping the web server failed'))
        .then(() => engine.close())
        .then(resolve, (error: unknown) => {
          engine.log.error({ err: error }, 'shutdown failed');
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
