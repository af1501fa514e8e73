/**
 * A latency histogram in the manner of HdrHistogram (Gil Tene): log-linear buckets, so every
 * recorded value keeps SIGNIFICANT_DIGITS decimal digits of precision whatever its magnitude, in a
 * fixed array of counts. Recording is one array increment (no allocation, no sorting), so a
 * benchmark can record every response at 100k req/s, and memory does not grow with the count.
 * Pure: values in, percentiles out.
 *
 * Layout: bucket 0 holds the values 0..SUB_BUCKET_COUNT-1 one per slot (exact). Each further
 * bucket b covers [SUB_BUCKET_COUNT/2 << b, SUB_BUCKET_COUNT << b) in SUB_BUCKET_COUNT/2 slots
 * of width 1 << b, so a slot is never wider than 1/1024 of the values it holds: a value is known
 * to within 0.1%.
 *
 * Values are whole microseconds in 0..MAX_TRACKABLE_US; bit operations stay within 32 bits.
 */

/** 3 significant decimal digits: 2 × 10^3 rounded up to a power of two slots per bucket. */
const SUB_BUCKET_COUNT = 2048;
const SUB_BUCKET_HALF_COUNT = SUB_BUCKET_COUNT / 2;
/** log2(SUB_BUCKET_HALF_COUNT). */
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10;
const SUB_BUCKET_MASK = SUB_BUCKET_COUNT - 1;
/** 32 − log2(SUB_BUCKET_COUNT): clz32 of a value's highest bit, offset to a bucket index. */
const LEADING_ZERO_COUNT_BASE = 32 - SUB_BUCKET_HALF_COUNT_MAGNITUDE - 1;

/** Largest value kept exactly in its slot: 2^32 − 1 µs, about 71 minutes. Larger values are
 * counted in the top slot and still raise `maxUs` exactly. */
export const MAX_TRACKABLE_US = 0xffff_ffff;

/** Buckets needed to reach MAX_TRACKABLE_US: the first covers 2^11, each further one doubles. */
const BUCKET_COUNT = 32 - 11 + 1;
/** (BUCKET_COUNT + 1) × SUB_BUCKET_HALF_COUNT counts: 23,552 slots, 184 KiB as float64. */
const COUNTS_LENGTH = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT;

export class LatencyHistogram {
  /** Float64: a count never wraps, even at billions of samples. */
  private readonly counts = new Float64Array(COUNTS_LENGTH);
  private total = 0;
  private max = 0;
  private min = Number.POSITIVE_INFINITY;
  private sum = 0;

  /** Number of values recorded. */
  get count(): number {
    return this.total;
  }

  /** Exact largest value recorded (0 when empty). */
  get maxUs(): number {
    return this.max;
  }

  /** Exact smallest value recorded (0 when empty). */
  get minUs(): number {
    return this.total === 0 ? 0 : this.min;
  }

  /** Exact mean of the values recorded (0 when empty). */
  get meanUs(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** Records one value in microseconds; negatives count as 0 and fractions are rounded. */
  record(valueUs: number): void {
    const value = valueUs > 0 ? Math.round(valueUs) : 0;
    const slot = value > MAX_TRACKABLE_US ? COUNTS_LENGTH - 1 : slotOf(value);
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
    this.total++;
    this.sum += value;
    if (value > this.max) this.max = value;
    if (value < this.min) this.min = value;
  }

  /** Adds every value of `other` (e.g. one histogram per worker). */
  merge(other: LatencyHistogram): void {
    for (let slot = 0; slot < COUNTS_LENGTH; slot++) {
      const count = other.counts[slot] ?? 0;
      if (count !== 0) this.counts[slot] = (this.counts[slot] ?? 0) + count;
    }
    this.total += other.total;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
    if (other.total > 0 && other.min < this.min) this.min = other.min;
  }

  /**
   * The value at `percentile` (0..100): the largest value equivalent to the slot holding the
   * ceil(percentile% × count)-th smallest value, never above the exact maximum. 0 when empty.
   * As HdrHistogram reports it, so p50 of 1..1000 is 500 and p100 is the maximum.
   */
  valueAtPercentileUs(percentile: number): number {
    if (this.total === 0) return 0;
    const clamped = Math.min(100, Math.max(0, percentile));
    // The rank of the wanted value, 1-based; the small epsilon absorbs float noise in p × n / 100
    // (99.9 × 1000 / 100 must be 999, not 999.0000000000001 → 1000).
    const rank = Math.max(1, Math.ceil((clamped * this.total) / 100 - 1e-9));
    // The largest value is known exactly, also when it was beyond the top slot.
    if (rank >= this.total) return this.max;
    let seen = 0;
    for (let slot = 0; slot < COUNTS_LENGTH - 1; slot++) {
      seen += this.counts[slot] ?? 0;
      if (seen >= rank) return Math.min(highestEquivalentValue(slot), this.max);
    }
    return this.max;
  }
}

/** The counts index of a value in 0..MAX_TRACKABLE_US. */
export function slotOf(value: number): number {
  // The bucket is the position of the highest bit above the first bucket's 11 bits; ORing the
  // mask makes values below 2048 land in bucket 0. clz32 reads its argument as unsigned.
  const bucket = LEADING_ZERO_COUNT_BASE - Math.clz32(value | SUB_BUCKET_MASK);
  const subBucket = value >>> bucket;
  return ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (subBucket - SUB_BUCKET_HALF_COUNT);
}

/** The smallest value that lands in `slot`. */
export function lowestEquivalentValue(slot: number): number {
  let bucket = (slot >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  let subBucket = (slot & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    // Slots 0..1023 are the lower half of bucket 0.
    subBucket -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return subBucket * 2 ** bucket;
}

/** The largest value that lands in `slot`. */
export function highestEquivalentValue(slot: number): number {
  const bucket = Math.max(0, (slot >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1);
  return lowestEquivalentValue(slot) + 2 ** bucket - 1;
}
