// One queue per key: work on the same key runs one at a time, in arrival order; different keys
// do not wait for each other. The engine keys it by container id (a start, a removal and a `cp`
// of a stopped container must not overlap: cp mounts the container's overlay, which a start
// mounts too) and by volume name (two containers created at once must not both copy an image's
// content into one fresh volume).
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` is done; its result or error is returned. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(fn);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return result;
  }

  /** Whether anyone holds or waits for `key` (tests, engine status). */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}
