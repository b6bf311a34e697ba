/**
 * A sleep that a control event, a lease event or a signal can cut short, so
 * the worker never polls: it sleeps until the next tick or until woken.
 */
export class Waker {
  private pending: (() => void) | undefined;
  private woken = false;

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.pending = done;
    });
  }

  /** Wake the current sleep, or make the next one return at once. */
  wake(): void {
    if (this.pending) this.pending();
    else this.woken = true;
  }
}
