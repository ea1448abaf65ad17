/**
 * Retries of a task go back to the cluster together, as one array of just
 * their indices: a retry is held until none of its task's elements is on
 * the cluster and no other retry of the task is still due (the run loop
 * sends a retry only after a backoff, so a failure seen now has its retry
 * come later). Counted per task, whatever the timing: the race where two
 * retries a poll apart went out as two arrays cannot happen.
 */
export class RetryGate<W> {
  #held: { readonly task: number; readonly item: W }[] = [];
  /** Per task: failed elements whose retry has not come back yet. */
  readonly #due = new Map<number, number>();

  /** A failed attempt the run loop will retry: one more retry is due for its task. */
  expect(task: number): void {
    this.#due.set(task, (this.#due.get(task) ?? 0) + 1);
  }

  /** A retry came back: it waits here until `release` lets its task's retries go. */
  hold(task: number, item: W): void {
    this.#due.set(task, Math.max(0, (this.#due.get(task) ?? 1) - 1));
    this.#held.push({ task, item });
  }

  /** The task's held retries, all of them, once none is still due and `busy` (its elements on the cluster) is false; else none. */
  release(task: number, busy: boolean): W[] {
    if ((this.#due.get(task) ?? 0) > 0 || busy) return [];
    const mine = this.#held.filter((h) => h.task === task).map((h) => h.item);
    if (mine.length > 0) this.#held = this.#held.filter((h) => h.task !== task);
    return mine;
  }

  /** Every held retry, for Ctrl-C. */
  drain(): W[] {
    return this.#held.splice(0).map((h) => h.item);
  }
}
