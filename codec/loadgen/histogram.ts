// Round-trip times in an HDR-style log-linear histogram: exact below 2048 µs,
// then 1024 linear sub-buckets per power of two (relative error under 0.1%),
// so recording is O(1), memory is fixed (~32k counters), and histograms from
// several connections or rounds merge by adding counts.

/** Values below this are counted exactly (one bucket per µs). */
const LINEAR = 2048;
/** Sub-buckets per power of two above LINEAR. */
const SUB = 1024;
const SUB_BITS = 10;
/** Powers of two covered above LINEAR: up to 2^41 µs (~25 days). */
const OCTAVES = 30;
const BUCKETS = LINEAR + OCTAVES * SUB;

function indexOf(us: number): number {
  if (us < LINEAR) return us;
  const shift = 31 - Math.clz32(us) - SUB_BITS; // >= 1, since us >= 2048
  if (shift > OCTAVES) return BUCKETS - 1;
  return LINEAR + (shift - 1) * SUB + ((us >>> shift) - SUB);
}

/** Lowest value that lands in bucket `i`. */
function lowestOf(i: number): number {
  if (i < LINEAR) return i;
  const shift = Math.floor((i - LINEAR) / SUB) + 1;
  return ((i - LINEAR) % SUB + SUB) * 2 ** shift;
}

/** Highest value that lands in bucket `i` (what a percentile reports: never optimistic). */
function highestOf(i: number): number {
  if (i < LINEAR) return i;
  const shift = Math.floor((i - LINEAR) / SUB) + 1;
  return lowestOf(i) + 2 ** shift - 1;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  min = Infinity;
  max = 0;
  sum = 0;

  /** Records one value in microseconds (rounded; negatives count as 0). */
  record(us: number): void {
    const v = us > 0 ? Math.min(Math.round(us), 2 ** 31 - 1) : 0;
    this.counts[indexOf(v)]! += 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value (µs) at percentile `p` (0..100): the highest value of the bucket holding that rank, capped at max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestOf(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Non-empty buckets as [lowest µs, count] pairs, for JSON and charts. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) out.push([lowestOf(i), this.counts[i]!]);
    return out;
  }
}
