/**
 * The seeded random source of the fault and latency draws: the same seed gives the same faults and
 * delays in the same order, so a failing run can be repeated.
 */
import { mulberry32, type Prng as Generator } from "../tenant/prng.js";

/** Seeded PRNG (the tenant generator's mulberry32) with a normal draw for latencies. */
export class Prng {
  private generator: Generator;

  /** @param seed - any integer */
  constructor(seed: number) {
    this.generator = mulberry32(seed);
  }

  /**
   * Starts the sequence over from another seed (after a config change of `seed`).
   *
   * @param seed - any integer
   */
  reseed(seed: number): void {
    this.generator = mulberry32(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.generator.next();
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
