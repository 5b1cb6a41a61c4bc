import Table from 'cli-table3';

/** A borderless, aligned table for terminal output. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

/** `1.2 s`, `35 ms`, `-`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Parse a `--params` value; the error names the option. */
export function parseJsonOption(value: string, option: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`${option}: not valid JSON (${(error as Error).message})`);
  }
}

/** Wrong command-line usage; exits with status 2. */
export class UsageError extends Error {}

/**
 * An option or argument value, or standard input when it is `-` (so secrets need not be typed
 * into the shell's history); one trailing newline is dropped.
 */
export async function valueOrStdin(value: string): Promise<string> {
  if (value !== '-') return value;
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}
