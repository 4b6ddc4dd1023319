// At most `limit` of `tasks` at once; each task's own promise is returned (in order), so a
// caller can chain on single tasks (pull commits layer i when download i is done).
export function limited<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T>[] {
  let running = 0;
  const queue: (() => void)[] = [];
  return tasks.map((task) => new Promise<T>((resolve, reject) => {
    const start = () => {
      running++;
      task().then(resolve, reject).finally(() => {
        running--;
        queue.shift()?.();
      });
    };
    if (running < limit) start(); else queue.push(start);
  }));
}

/** Settles every promise, then throws the first rejection (so nothing runs on after a throw). */
export async function allOrFirstError<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
