import { Log, Logger, LogLevel } from '@crawlee/cheerio';

/** The logger a crawl writes to: a task's logger (lines go to the try's log) or a pino logger. */
export interface CrawlLogger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

/** Forwards crawlee's log lines to a {@link CrawlLogger} instead of the process's stdout. */
class ForwardingLogger extends Logger {
  readonly #target: CrawlLogger;

  constructor(target: CrawlLogger) {
    super({});
    this.#target = target;
  }

  override _log(level: LogLevel, message: string, data?: Record<string, unknown>, exception?: unknown, opts?: Record<string, unknown>): void {
    const prefix = typeof opts?.prefix === 'string' && opts.prefix ? `${opts.prefix}: ` : '';
    const fields: Record<string, unknown> = { component: 'crawlee', ...data };
    if (exception !== undefined) fields.err = exception instanceof Error ? exception.message : String(exception);
    const line = `${prefix}${message}`;
    if (level <= LogLevel.ERROR) this.#target.error(fields, line);
    else if (level <= LogLevel.WARNING) this.#target.warn(fields, line);
    else if (level === LogLevel.INFO) this.#target.info(fields, line);
    else this.#target.debug(fields, line);
  }
}

/**
 * A crawlee `Log` writing to `target`: crawlee's warnings and errors (failed requests, skipped
 * ones). Its info lines (periodic autoscaling and statistics dumps) are left out: the crawl logs
 * its own progress.
 */
export function crawleeLog(target: CrawlLogger, level: LogLevel = LogLevel.WARNING): Log {
  return new Log({ level, logger: new ForwardingLogger(target) });
}
