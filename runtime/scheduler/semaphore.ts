/**
 * A counting semaphore with invariant checks (STYLE habit 10): the scheduler
 * asks before it starts a job and releases when the job ends, never waits.
 */
export class Semaphore {
  #used = 0;
  constructor(
    readonly name: string,
    readonly capacity: number,
  ) {
    if (!(capacity >= 1)) throw new Error(`semaphore ${name}: capacity ${capacity} < 1`);
  }

  get used(): number {
    return this.#used;
  }

  /** Whether `weight` slots are free; a weight above capacity fits only an idle semaphore. */
  fits(weight: number): boolean {
    return this.#used + weight <= this.capacity || this.#used === 0;
  }

  acquire(weight: number): void {
    if (!this.fits(weight)) throw new Error(`semaphore ${this.name}: acquire ${weight} with ${this.#used}/${this.capacity} used`);
    this.#used += weight;
  }

  release(weight: number): void {
    if (weight > this.#used) throw new Error(`semaphore ${this.name}: release ${weight} with only ${this.#used} used`);
    this.#used -= weight;
  }
}
