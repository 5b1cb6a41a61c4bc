import { OperatorArgsError, type PluginRuntime, type TaskContext } from '@tributary/engine';
import { loadCountyConfig, type LoadedCountyConfig } from '../config/load-county.js';

/** The county config an operator works on: its `county` argument, else the run's `county` param. */
export async function countyConfigFor(
  operator: string,
  args: { county?: string | undefined; configDir?: string | undefined },
  context: Pick<TaskContext, 'params'>,
  runtime: Pick<PluginRuntime, 'projectDir'>,
): Promise<LoadedCountyConfig> {
  const fromParams = (context.params as Record<string, unknown> | undefined)?.county;
  const county = args.county ?? (typeof fromParams === 'string' && fromParams.length > 0 ? fromParams : undefined);
  if (!county) throw new OperatorArgsError(operator, [{ field: 'county', message: "not given: pass 'county', or run the DAG with a 'county' param" }]);
  return loadCountyConfig(county, { projectDir: runtime.projectDir, ...(args.configDir ? { configDir: args.configDir } : {}) });
}

/** A string param of the run, if set. */
export function stringParam(context: Pick<TaskContext, 'params'>, name: string): string | undefined {
  const value = (context.params as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
