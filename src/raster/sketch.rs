//! A mergeable quantile summary of a band's valid values, kept per file and band at ingest so that
//! quantiles of any subset of scenes come from the catalog without rereading pixels.
//!
//! It is a relative-accuracy sketch (DDSketch, Masson et al., VLDB 2019): a value x > 0 is counted
//! in bucket i = ceil(log_γ x), which covers (γ^(i-1), γ^i], with γ = (1 + α) / (1 - α); negative
//! values in a mirrored set of buckets, and |x| ≤ [`ZERO_BELOW`] in a bucket of its own. The value
//! at rank r is answered with the midpoint 2γ^i / (γ + 1) of r's bucket, which is within α·|x_r| of
//! the true x_r. Counts merge by addition, so the sketch of a union is exact in its counts and the
//! bound holds for any subset. A band needs one bucket per 2 % step of its value range (256 px
//! SEN12MS S2 patches: a few hundred bytes per band, see docs/catalog.md).

use super::error::{RasterError, Result};
use super::f32_histogram::{self, F32Histogram, BIN_SHIFT};
use std::sync::OnceLock;

/// The relative accuracy: each quantile is within 1 % of the value at its rank.
pub const ALPHA: f64 = 0.01;

/// Values of smaller magnitude are counted as zero (absolute error below this).
pub const ZERO_BELOW: f64 = 1e-9;

/// The first byte of the encoding: its format (ALPHA and the bucket rule above).
const FORMAT: u8 = 1;

/// γ = (1 + α) / (1 - α), the ratio between a bucket's upper and lower bound.
fn gamma() -> f64 {
    (1.0 + ALPHA) / (1.0 - ALPHA)
}

/// Counts of consecutive bucket indices from `offset` on, grown as values arrive.
#[derive(Debug, Clone, Default, PartialEq)]
struct Buckets {
    offset: i32,
    counts: Vec<u64>,
}

impl Buckets {
    fn add(&mut self, index: i32, count: u64) {
        if self.counts.is_empty() {
            self.offset = index;
        }
        if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        }
        let slot = (index - self.offset) as usize;
        if slot >= self.counts.len() {
            self.counts.resize(slot + 1, 0);
        }
        self.counts[slot] += count;
    }

    /// (index, count) of the non-empty buckets, lowest index first.
    fn occupied(&self) -> impl DoubleEndedIterator<Item = (i32, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (self.offset + i as i32, *c))
    }
}

/// A mergeable quantile sketch (see the module documentation for its bound).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuantileSketch {
    negative: Buckets,
    zero: u64,
    positive: Buckets,
}

impl QuantileSketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `value` `count` times; NaN and infinities are not values and are ignored.
    pub fn add(&mut self, value: f64, count: u64) {
        if let Some(slot) = Slot::of(value) {
            self.add_to(slot, count);
        }
    }

    /// Counts each (value, count), as [`QuantileSketch::add`] would one after the other. Values
    /// that follow each other in one bucket are counted at once: a histogram's bins, in order,
    /// cost one bucket update per bucket instead of one per bin.
    pub fn add_all(&mut self, values: impl IntoIterator<Item = (f64, u64)>) {
        self.add_slots(values.into_iter().filter(|(_, count)| *count > 0).map(|(v, count)| (Slot::of(v), count)));
    }

    /// Counts a histogram of integers, `counts[i]` values equal to `first + i`, as
    /// [`QuantileSketch::add_all`] would: the bucket of each magnitude up to 2^16 (every 8- and
    /// 16-bit value) comes from a table built once, instead of a logarithm per bin.
    pub fn add_integer_counts(&mut self, first: i64, counts: &[u64]) {
        let table = integer_buckets();
        let slot = |value: i64| match (value.unsigned_abs() as usize, value < 0) {
            (0, _) => Some(Slot::Zero),
            (magnitude, negative) if magnitude < table.len() => {
                Some(if negative { Slot::Negative(table[magnitude]) } else { Slot::Positive(table[magnitude]) })
            }
            _ => Slot::of(value as f64),
        };
        let bins = counts.iter().enumerate().filter(|(_, count)| **count > 0);
        self.add_slots(bins.map(|(i, count)| (slot(first + i as i64), *count)));
    }

    /// Counts each of `values` (a float32 band's, exactly those `histogram` counted) once, as
    /// [`QuantileSketch::add`] would: [`QuantileSketch::f32_edges`], then each value seen once.
    pub fn add_f32_histogram(&mut self, values: &[f32], histogram: &F32Histogram) {
        let mut edges = self.f32_edges(histogram);
        values.iter().for_each(|v| edges.see(*v));
        edges.finish(self, values);
    }

    /// Counts the bins of `histogram` that lie inside one bucket at once, and returns what the
    /// values of the other bins still need: those of bins that straddle a bucket edge (one edge
    /// at most: a bin is narrower than a bucket) are compared with it as each value is
    /// [seen](F32Edges::see), in whichever pass over the values the caller makes; values outside
    /// the table's range are added one by one in [`F32Edges::finish`].
    pub fn f32_edges(&mut self, histogram: &F32Histogram) -> F32Edges {
        let (low, high) = histogram.used().unwrap_or((0, 0));
        // Entry 0 stands for every bin not split by an edge (its edge is never passed), so seeing
        // a value has no branch; `straddling_of[bin - low]` is the bin's entry.
        let mut straddling =
            vec![Straddling { below: Slot::Zero, above: Slot::Zero, edge: f32::INFINITY, count: 0, past_edge: 0 }];
        let mut straddling_of = vec![0u32; high - low + 1];
        let mut each_value = Vec::new();
        let whole = histogram.occupied().filter_map(|(bin, count)| match f32_bin_rule(bin) {
            BinRule::Whole(slot) => Some((Some(slot), count)),
            BinRule::Split { below, above, edge } => {
                straddling_of[bin - low] = straddling.len() as u32;
                straddling.push(Straddling { below, above, edge, count, past_edge: 0 });
                None
            }
            BinRule::EachValue => {
                each_value.push(bin);
                None
            }
        });
        self.add_slots(whole);
        F32Edges { low, straddling, straddling_of, each_value }
    }

    fn add_slots(&mut self, slots: impl Iterator<Item = (Option<Slot>, u64)>) {
        let mut run: Option<(Slot, u64)> = None;
        for (slot, count) in slots {
            let Some(slot) = slot else { continue };
            match &mut run {
                Some((current, pending)) if *current == slot => *pending += count,
                _ => {
                    if let Some((done, pending)) = run.replace((slot, count)) {
                        self.add_to(done, pending);
                    }
                }
            }
        }
        if let Some((slot, pending)) = run {
            self.add_to(slot, pending);
        }
    }

    fn add_to(&mut self, slot: Slot, count: u64) {
        if count == 0 {
            return;
        }
        match slot {
            Slot::Negative(index) => self.negative.add(index, count),
            Slot::Zero => self.zero += count,
            Slot::Positive(index) => self.positive.add(index, count),
        }
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.negative.counts.iter().sum::<u64>() + self.zero + self.positive.counts.iter().sum::<u64>()
    }

    /// Adds the counts of an encoded sketch (as [`QuantileSketch::encode`] writes it).
    pub fn merge_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        let mut reader = Reader { bytes, at: 0 };
        let format = reader.byte()?;
        if format != FORMAT {
            return Err(RasterError::Sketch(format!("format {format} is not {FORMAT} (written by another sen12lite)")));
        }
        self.zero += reader.varint()?;
        for store in [&mut self.negative, &mut self.positive] {
            let entries = reader.varint()?;
            let mut index = 0i64;
            for _ in 0..entries {
                index += unzigzag(reader.varint()?);
                let index = i32::try_from(index).map_err(|_| RasterError::Sketch("bucket out of range".into()))?;
                store.add(index, reader.varint()?);
            }
        }
        if reader.at != bytes.len() {
            return Err(RasterError::Sketch("has trailing bytes".into()));
        }
        Ok(())
    }

    /// The compact form stored in `band_stats.sketch`: format byte, zero count, then for the
    /// negative and the positive buckets their number and (index step, count) pairs, as LEB128
    /// varints (index steps zigzag-coded); consecutive buckets cost 1 byte of index each.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        put_varint(&mut out, self.zero);
        for store in [&self.negative, &self.positive] {
            put_varint(&mut out, store.occupied().count() as u64);
            let mut previous = 0i64;
            for (index, count) in store.occupied() {
                put_varint(&mut out, zigzag(i64::from(index) - previous));
                put_varint(&mut out, count);
                previous = i64::from(index);
            }
        }
        out
    }

    /// The estimate of the value at 0-based `rank` of the sorted values (None past the end).
    pub fn value_at_rank(&self, rank: u64) -> Option<f64> {
        let midpoint = |index: i32| 2.0 * gamma().powi(index) / (gamma() + 1.0);
        // Ascending order: the most negative first (the highest negative bucket), zero, positives.
        let negatives = self.negative.occupied().rev().map(|(i, c)| (-midpoint(i), c));
        let zeros = std::iter::once((0.0, self.zero));
        let positives = self.positive.occupied().map(|(i, c)| (midpoint(i), c));
        let mut seen = 0u64;
        for (value, count) in negatives.chain(zeros).chain(positives) {
            seen += count;
            if seen > rank {
                return Some(value);
            }
        }
        None
    }

    /// numpy's linear quantile q (between the ranks floor(h) and floor(h) + 1, h = q (n - 1)),
    /// from the estimates of those two ranks: within α times the larger magnitude of the two true
    /// values. None for an empty sketch.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
        let lower = h.floor() as u64;
        let upper = (lower + 1).min(n - 1);
        let (a, b) = (self.value_at_rank(lower)?, self.value_at_rank(upper)?);
        Some(a + (b - a) * (h - lower as f64))
    }
}

/// Where a value is counted: a bucket of either sign, or the zero count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Negative(i32),
    Zero,
    Positive(i32),
}

impl Slot {
    /// None for NaN and infinities, which are not values.
    fn of(value: f64) -> Option<Slot> {
        if !value.is_finite() {
            None
        } else if value.abs() <= ZERO_BELOW {
            Some(Slot::Zero)
        } else if value > 0.0 {
            Some(Slot::Positive(bucket_of(value)))
        } else {
            Some(Slot::Negative(bucket_of(-value)))
        }
    }
}

/// Float32 magnitudes from here up (2^-29, above ZERO_BELOW) have their bucket in a table.
const TABLE_FLOOR: f32 = 1.0 / (1u32 << 29) as f32;
// A table bin is a bin of the histogram: the float32 values that share their exponent and top 7
// mantissa bits. Its width, 2^-7 of its values at most, is below a bucket's (2 %), so at most one
// bucket edge falls in it.
const BINS_PER_EXPONENT: usize = 1 << (23 - BIN_SHIFT);

/// One exponent's bins: the bucket of each bin's smallest value, and the largest value of the
/// bin still in that bucket (infinity where the whole bin is).
struct ExponentRow {
    first_bucket: [i32; BINS_PER_EXPONENT],
    last_in_first: [f32; BINS_PER_EXPONENT],
}

impl ExponentRow {
    /// Bucket edges found by bisection with [`bucket_of`] itself: it is monotone over float32
    /// values (two neighbours differ in logarithm by far more than libm's error), so the table
    /// gives every value exactly the bucket [`bucket_of`] gives it (a unit test checks whole
    /// binades).
    fn new(exponent: u32) -> ExponentRow {
        let mut row =
            ExponentRow { first_bucket: [0; BINS_PER_EXPONENT], last_in_first: [f32::INFINITY; BINS_PER_EXPONENT] };
        for bin in 0..BINS_PER_EXPONENT as u32 {
            let low = (exponent << 23) | (bin << BIN_SHIFT);
            let bucket = |bits: u32| bucket_of(f64::from(f32::from_bits(bits)));
            let first = bucket(low);
            row.first_bucket[bin as usize] = first;
            let (mut inside, mut outside) = (low, low | ((1 << BIN_SHIFT) - 1));
            if bucket(outside) == first {
                continue;
            }
            while outside - inside > 1 {
                let middle = inside + (outside - inside) / 2;
                if bucket(middle) == first {
                    inside = middle;
                } else {
                    outside = middle;
                }
            }
            row.last_in_first[bin as usize] = f32::from_bits(inside);
        }
        row
    }
}

/// A histogram bin with a bucket edge inside: its values up to `edge` (in magnitude) go to
/// `below`, the `past_edge` others to `above`.
struct Straddling {
    below: Slot,
    above: Slot,
    edge: f32,
    count: u64,
    past_edge: u64,
}

/// What a float32 band's sketch still needs from its values once its histogram's whole bins are
/// counted ([`QuantileSketch::f32_edges`]).
pub struct F32Edges {
    /// The histogram's lowest used bin.
    low: usize,
    straddling: Vec<Straddling>,
    straddling_of: Vec<u32>,
    /// Bins outside the table: their values are added one by one.
    each_value: Vec<usize>,
}

impl F32Edges {
    /// Compares one value (of the bins the histogram counted) with its bin's edge.
    #[inline]
    pub fn see(&mut self, value: f32) {
        let bin = &mut self.straddling[self.straddling_of[f32_histogram::bin_of(value) - self.low] as usize];
        bin.past_edge += u64::from(value.abs() > bin.edge);
    }

    /// Counts the straddling bins on either side of their edge into `sketch`, and the values of
    /// the bins outside the table (zeros, tiny magnitudes, infinities: rare), from `values` (all
    /// of them, once seen).
    pub fn finish(self, sketch: &mut QuantileSketch, values: &[f32]) {
        for bin in &self.straddling[1..] {
            sketch.add_to(bin.below, bin.count - bin.past_edge);
            sketch.add_to(bin.above, bin.past_edge);
        }
        if !self.each_value.is_empty() {
            for &v in values.iter().filter(|v| self.each_value.contains(&f32_histogram::bin_of(**v))) {
                sketch.add(f64::from(v), 1);
            }
        }
    }
}

/// How the values of one bin of an [`F32Histogram`] are counted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BinRule {
    /// All in one bucket.
    Whole(Slot),
    /// In `below` up to magnitude `edge`, in `above` past it.
    Split { below: Slot, above: Slot, edge: f32 },
    /// Outside the table (tiny magnitudes, zeros, infinities): each value by [`Slot::of`].
    EachValue,
}

/// The rule of a histogram bin from the table: a bin of magnitudes in TABLE_FLOOR..=f32::MAX
/// has its buckets in the table row of its exponent. Rows are built when a bin of their exponent
/// first comes (a band of dB values uses a handful), so a bin costs a lookup, not a logarithm.
fn f32_bin_rule(bin: usize) -> BinRule {
    let magnitude_bits = ((bin as u32) << BIN_SHIFT) & 0x7fff_ffff;
    let exponent = magnitude_bits >> 23;
    if exponent < TABLE_FLOOR.to_bits() >> 23 || exponent > f32::MAX.to_bits() >> 23 {
        return BinRule::EachValue;
    }
    let (row, index) = table_row(magnitude_bits);
    let signed = |bucket| if f32_histogram::is_negative(bin) { Slot::Negative(bucket) } else { Slot::Positive(bucket) };
    let first = row.first_bucket[index];
    match row.last_in_first[index] {
        edge if edge.is_infinite() => BinRule::Whole(signed(first)),
        edge => BinRule::Split { below: signed(first), above: signed(first + 1), edge },
    }
}

/// The exponent row and bin of a float32 magnitude's bits.
fn table_row(magnitude_bits: u32) -> (&'static ExponentRow, usize) {
    static ROWS: [OnceLock<ExponentRow>; 256] = [const { OnceLock::new() }; 256];
    let exponent = magnitude_bits >> 23;
    let row = ROWS[exponent as usize].get_or_init(|| ExponentRow::new(exponent));
    (row, ((magnitude_bits >> BIN_SHIFT) as usize) & (BINS_PER_EXPONENT - 1))
}

/// The bucket of each integer magnitude 0..=2^16 (entry 0 unused: zero has its own count).
fn integer_buckets() -> &'static [i32] {
    static TABLE: OnceLock<Vec<i32>> = OnceLock::new();
    TABLE.get_or_init(|| (0..=1u32 << 16).map(|m| if m == 0 { 0 } else { bucket_of(f64::from(m)) }).collect())
}

/// ceil(log_γ x) for x > ZERO_BELOW.
fn bucket_of(x: f64) -> i32 {
    ceil_to_i32(x.ln() / gamma().ln())
}

/// ceil(t) for |t| < 2^31 without a libm call (x86-64 without SSE4.1 has no rounding
/// instruction, and the ingest buckets every value of every float band).
fn ceil_to_i32(t: f64) -> i32 {
    let truncated = t as i32;
    truncated + i32::from(f64::from(truncated) < t)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an encoded sketch, refusing truncated or overlong input.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8> {
        let byte = *self.bytes.get(self.at).ok_or_else(|| RasterError::Sketch("is truncated".into()))?;
        self.at += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(RasterError::Sketch("has an overlong number".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible spread of values over several magnitudes, both signs, and exact zeros.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let magnitude = 10f64.powf((x % 10_000) as f64 / 1_000.0 - 3.0);
                match i % 7 {
                    0 => 0.0,
                    1 | 2 => -magnitude,
                    _ => magnitude,
                }
            })
            .collect()
    }

    fn sketch_of(values: &[f64]) -> QuantileSketch {
        let mut sketch = QuantileSketch::new();
        values.iter().for_each(|v| sketch.add(*v, 1));
        sketch
    }

    #[test]
    fn the_integer_ceiling_is_libms() {
        for t in [-36_000.5, -2.5, -2.0, -0.25, -0.0, 0.0, 1e-12, 0.5, 1.0, 2.0 - 1e-15, 2.0, 35_999.000_001] {
            assert_eq!(ceil_to_i32(t), t.ceil() as i32, "{t}");
        }
    }

    /// The slot the table gives a float32 value in its range.
    fn table_slot(v: f32) -> Slot {
        match f32_bin_rule(f32_histogram::bin_of(v)) {
            BinRule::Whole(slot) => slot,
            BinRule::Split { below, above, edge } => {
                if v.abs() > edge {
                    above
                } else {
                    below
                }
            }
            BinRule::EachValue => panic!("{v:e} is outside the table"),
        }
    }

    #[test]
    fn float32_buckets_from_the_table_are_the_computed_ones() {
        // Every float32 of the binades of dB magnitudes (1/8 to 64), and the edges of all others.
        let binades = (124u32..=132).flat_map(|e| (e << 23)..((e + 1) << 23));
        for bits in binades.step_by(1).filter(|b| b % 3 == 0 || b & 0xffff < 4) {
            let v = f32::from_bits(bits);
            assert_eq!(table_slot(v), Slot::Positive(bucket_of(f64::from(v))), "{v:e}");
        }
        let floor = TABLE_FLOOR.to_bits() >> 23;
        for exponent in floor..255 {
            for bits in [exponent << 23, (exponent << 23) | 0x7f_ffff, (exponent << 23) | 0x12_3456] {
                let v = f32::from_bits(bits);
                assert_eq!(table_slot(v), Slot::Positive(bucket_of(f64::from(v))), "{v:e}");
            }
        }
        let gamma = gamma();
        for k in -1000..4400 {
            let edge = gamma.powi(k) as f32;
            for v in [edge, f32::from_bits(edge.to_bits() - 1), f32::from_bits(edge.to_bits() + 1)] {
                if (TABLE_FLOOR..=f32::MAX).contains(&v) {
                    assert_eq!(table_slot(v), Slot::Positive(bucket_of(f64::from(v))), "{v:e}");
                }
            }
        }
    }

    #[test]
    fn float32_values_count_as_their_f64_values() {
        let values: Vec<f32> =
            values(20_000, 9).into_iter().map(|v| v as f32).chain([f32::NAN, 1e-30, -1e-12, f32::MAX, 3e-9]).collect();
        let mut as_f64 = QuantileSketch::new();
        values.iter().for_each(|v| as_f64.add(f64::from(*v), 1));
        // A band's kept values: NaN is nodata.
        let kept: Vec<f32> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let mut histogram = F32Histogram::new(vec![0; f32_histogram::BINS]).unwrap();
        kept.iter().for_each(|v| histogram.add(*v));
        let mut as_f32 = QuantileSketch::new();
        as_f32.add_f32_histogram(&kept, &histogram);
        assert_eq!(as_f32, as_f64);
    }

    #[test]
    fn integer_histograms_count_as_their_values() {
        // Int16 and UInt16 ranges, with gaps, zero and the table's far end.
        for first in [-32_768i64, -40, 0, 65_000] {
            let counts: Vec<u64> = (0..1_000u64).map(|i| (i * 7919) % 5).chain([3, 0, 9]).collect();
            let mut by_value = QuantileSketch::new();
            by_value.add_all(counts.iter().enumerate().map(|(i, c)| ((first + i as i64) as f64, *c)));
            let mut by_table = QuantileSketch::new();
            by_table.add_integer_counts(first, &counts);
            assert_eq!(by_table, by_value, "from {first}");
        }
    }

    #[test]
    fn runs_of_values_count_as_the_values_one_by_one() {
        let mut bins: Vec<(f64, u64)> = (0..5_000).map(|v| (f64::from(v) - 100.0, (v % 7) as u64)).collect();
        bins.extend(values(3_000, 5).into_iter().map(|v| (v, 2)));
        bins.push((f64::NAN, 3));
        let mut one_by_one = QuantileSketch::new();
        bins.iter().for_each(|&(v, c)| one_by_one.add(v, c));
        let mut at_once = QuantileSketch::new();
        at_once.add_all(bins);
        assert_eq!(at_once, one_by_one);
    }

    #[test]
    fn every_rank_is_within_alpha_of_the_sorted_value() {
        let mut sorted = values(20_000, 7);
        let sketch = sketch_of(&sorted);
        sorted.sort_by(f64::total_cmp);
        for (rank, exact) in sorted.iter().enumerate().step_by(37) {
            let estimate = sketch.value_at_rank(rank as u64).unwrap();
            assert!(
                (estimate - exact).abs() <= ALPHA * exact.abs() * (1.0 + 1e-12),
                "rank {rank}: {estimate} vs {exact}"
            );
        }
        assert_eq!(sketch.value_at_rank(20_000), None);
    }

    #[test]
    fn linear_quantiles_agree_with_numpys_definition_within_the_bound() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.02, 0.5, 0.98]) = [1.08, 3.0, 9.52]; ranks 0-1, 2, 3-4.
        let sketch = sketch_of(&[3.0, 1.0, 10.0, 4.0, 2.0]);
        for (q, want, bound) in [(0.02, 1.08, 2.0), (0.5, 3.0, 3.0), (0.98, 9.52, 10.0)] {
            let got = sketch.quantile(q).unwrap();
            assert!((got - want).abs() <= ALPHA * bound, "q {q}: {got} vs {want}");
        }
        assert_eq!(QuantileSketch::new().quantile(0.5), None);
    }

    #[test]
    fn merged_encodings_equal_the_sketch_of_the_union() {
        let all = values(9_000, 11);
        let mut merged = QuantileSketch::new();
        for part in all.chunks(2_500) {
            merged.merge_encoded(&sketch_of(part).encode()).unwrap();
        }
        assert_eq!(merged, sketch_of(&all));
        assert_eq!(merged.count(), 9_000);
    }

    #[test]
    fn nan_and_infinities_are_not_counted_and_tiny_values_are_zero() {
        let sketch = sketch_of(&[f64::NAN, f64::INFINITY, 1e-12, -1e-10]);
        assert_eq!((sketch.count(), sketch.quantile(1.0)), (2, Some(0.0)));
    }

    #[test]
    fn a_256_px_band_over_the_whole_uint16_range_encodes_in_under_2_kb() {
        let mut sketch = QuantileSketch::new();
        (0..65_536u32).for_each(|v| sketch.add(f64::from(v), 1));
        let bytes = sketch.encode().len();
        assert!(bytes < 2048, "{bytes} bytes");
    }

    #[test]
    fn damaged_encodings_are_refused() {
        let good = sketch_of(&[1.0, 2.0, 300.0]).encode();
        assert!(QuantileSketch::new()
            .merge_encoded(&good[..good.len() - 1])
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        assert!(QuantileSketch::new().merge_encoded(&[9]).unwrap_err().to_string().contains("format 9"));
        assert!(QuantileSketch::new()
            .merge_encoded(&[FORMAT, 0, 0, 0, 0])
            .unwrap_err()
            .to_string()
            .contains("trailing"));
        assert!(QuantileSketch::new()
            .merge_encoded(&[FORMAT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
            .is_err());
    }
}
