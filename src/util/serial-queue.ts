/**
 * Runs async tasks one at a time, in submission order (docs/conventions.md principle 4: one owner
 * per player session). A failing task does not stop the queue; its promise rejects.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => this.#pending--,
      () => this.#pending--,
    );
    return result;
  }

  /** Resolves once everything queued so far (and queued meanwhile) has finished; true when it had to wait. */
  async idle(): Promise<boolean> {
    const waited = this.#pending > 0;
    while (this.#pending > 0) await this.#tail;
    return waited;
  }
}
