/**
 * When a Worker writes metered usage. A Worker does no work between
 * requests, so usage is written behind responses (ctx.waitUntil), but not
 * behind every one: each write is a durable write to the store object,
 * and the object answers the next key lookup only once it is committed.
 * The first response in a quiet isolate schedules one write METERING_FLUSH_MS
 * later; responses finishing meanwhile ride on it (their usage is in the
 * journal it writes). The scheduling request's waitUntil keeps the isolate
 * alive until the write is done, so nothing waits in an evicted isolate.
 */
export type ScheduleFlush = () => Promise<void>;

export function coalescedFlush(flush: () => Promise<void>, delayMs: number): ScheduleFlush {
  let scheduled = false;
  return () => {
    if (scheduled) return Promise.resolve();
    scheduled = true;
    return new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => {
      // Cleared before the write starts: usage added from now on is not in it, so it schedules the next one.
      scheduled = false;
      return flush();
    });
  };
}
