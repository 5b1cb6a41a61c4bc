/** How long to wait before retry number `retry` (1 for the first): `initialMs` doubled per retry, at most `maxMs`. */
export function retryDelayMs(retry: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, retry - 1));
}
