/**
 * A queue of work items that may each wait until a time before they are due: items due now are
 * taken first in, first out; items put off (a backoff, a read that must wait for a write to show)
 * join the end when their time comes. Chunks may hold thousands of items, so taking from the
 * front never moves what stays, and waiting items sit in a binary heap.
 */

interface Waiting<T> {
  at: number;
  seq: number;
  item: T;
}

/** Items due now, in order, and items due later, by time. */
export class DueQueue<T> {
  private ready: T[] = [];
  private head = 0;
  private readonly waiting: Waiting<T>[] = [];
  private seq = 0;

  /** Items due now (call {@link promote} first). */
  get readyCount(): number {
    return this.ready.length - this.head;
  }

  /** Every item, due or not. */
  get size(): number {
    return this.readyCount + this.waiting.length;
  }

  /** When the next waiting item is due, if any waits. */
  get nextDueAt(): number | undefined {
    return this.waiting[0]?.at;
  }

  /**
   * Adds items due now.
   *
   * @param items - the items, in order.
   */
  push(...items: T[]): void {
    this.ready.push(...items);
  }

  /**
   * Adds an item due at a time.
   *
   * @param item - the item.
   * @param at - when it is due, on the caller's clock.
   */
  defer(item: T, at: number): void {
    const heap = this.waiting;
    heap.push({ at, seq: this.seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Waiting<T>, heap[parent] as Waiting<T>)) {
        break;
      }
      swap(heap, i, parent);
      i = parent;
    }
  }

  /**
   * Moves the items due by `now` to the end of the ready ones, in the order they fell due.
   *
   * @param now - the current time, on the clock {@link defer} was given times on.
   */
  promote(now: number): void {
    while ((this.waiting[0]?.at ?? Number.POSITIVE_INFINITY) <= now) {
      this.ready.push(this.popWaiting());
    }
  }

  /**
   * Takes up to `n` of the items due now, first in first out.
   *
   * @param n - how many at most.
   */
  take(n: number): T[] {
    const taken = this.ready.slice(this.head, this.head + n);
    this.head += taken.length;
    if (this.head > 1_024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  /** Takes every item, due or not (for the caller to account for what was left). */
  drain(): T[] {
    const all = this.take(this.readyCount);
    while (this.waiting.length > 0) {
      all.push(this.popWaiting());
    }
    return all;
  }

  private popWaiting(): T {
    const heap = this.waiting;
    const top = heap[0] as Waiting<T>;
    const last = heap.pop() as Waiting<T>;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as Waiting<T>, heap[m] as Waiting<T>)) {
          m = l;
        }
        if (r < heap.length && before(heap[r] as Waiting<T>, heap[m] as Waiting<T>)) {
          m = r;
        }
        if (m === i) {
          break;
        }
        swap(heap, i, m);
        i = m;
      }
    }
    return top.item;
  }
}

function before<T>(a: Waiting<T>, b: Waiting<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function swap<T>(heap: T[], i: number, j: number): void {
  const t = heap[i] as T;
  heap[i] = heap[j] as T;
  heap[j] = t;
}
