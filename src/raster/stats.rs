//! Exact per-band statistics over every pixel, in bounded memory for the datasets' integer bands.
//!
//! 8- and 16-bit bands are counted in a histogram (256 or 65536 bins), which gives exact min, max,
//! mean, population standard deviation and percentiles in constant memory. Other types keep their
//! valid values (float32 as f32) and select the percentile ranks. Percentiles use numpy's default
//! definition (linear interpolation between the ranks around q * (n - 1)).

use super::f32_histogram::{locate_ranks, F32Histogram, RankFinder, BINS as F32_BINS};
use super::sketch::{F32Edges, QuantileSketch};
use gdal::raster::GdalDataType;

/// The one nodata rule: NaN always, and the band's tag when it has one.
pub fn is_nodata(value: f64, tag: Option<f64>) -> bool {
    value.is_nan() || tag == Some(value)
}

/// A value as strips hold it: a band's own sample type, or f64.
pub trait Sample: Copy + PartialEq + Into<f64> {
    /// The nodata tag as a value of this type; None when no value of the type equals it (a tag
    /// the type cannot hold exactly, or NaN, which [`is_nodata`] tests apart).
    fn held_tag(tag: Option<f64>) -> Option<Self>;

    /// [`is_nodata`] for values of this type, the tag converted once: a comparison in the type
    /// itself, which the compiler vectorizes over a strip (8 16-bit values to a vector
    /// instruction, where f64 fits 2).
    fn nodata_test(tag: Option<f64>) -> impl Fn(Self) -> bool + Copy;
}

macro_rules! integer_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn held_tag(tag: Option<f64>) -> Option<Self> {
                let range = f64::from(<$t>::MIN)..=f64::from(<$t>::MAX);
                tag.filter(|t| t.fract() == 0.0 && range.contains(t)).map(|t| t as $t)
            }

            fn nodata_test(tag: Option<f64>) -> impl Fn(Self) -> bool + Copy {
                // A flag and a value rather than an Option: the comparison then has no branch.
                let held = Self::held_tag(tag);
                let (has_tag, tag) = (held.is_some(), held.unwrap_or(0));
                move |v: $t| has_tag & (v == tag)
            }
        }
    )*};
}
integer_sample!(u8, u16, i16, u32, i32);

macro_rules! float_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn held_tag(tag: Option<f64>) -> Option<Self> {
                tag.filter(|t| f64::from(*t as $t) == *t).map(|t| t as $t)
            }

            fn nodata_test(tag: Option<f64>) -> impl Fn(Self) -> bool + Copy {
                // NaN, which equals no value, stands for no tag.
                let tag = Self::held_tag(tag).unwrap_or(<$t>::NAN);
                move |v: $t| v.is_nan() | (v == tag)
            }
        }
    )*};
}
float_sample!(f32, f64);

/// The percentiles the catalog stores, as fractions.
pub const PERCENTILES: [f64; 3] = [0.02, 0.50, 0.98];

/// The statistics of one band.
#[derive(Debug, Clone, PartialEq)]
pub struct BandStats {
    /// Pixels with data.
    pub valid_count: u64,
    /// Pixels at the nodata tag or NaN.
    pub nodata_count: u64,
    /// min, max, mean, stddev, p02, p50, p98; None when no pixel is valid.
    pub summary: Option<Summary>,
    /// The valid values' quantile sketch, for quantiles of unions of files.
    pub sketch: QuantileSketch,
}

/// Statistics of the valid values (None in [`BandStats`] when there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Smallest valid value.
    pub min: f64,
    /// Largest valid value.
    pub max: f64,
    /// Mean of the valid values.
    pub mean: f64,
    /// Population standard deviation of the valid values.
    pub stddev: f64,
    /// The 2nd, 50th and 98th percentiles (numpy's linear definition).
    pub percentiles: [f64; 3],
}

/// Count, extremes, mean and sum of squared deviations of a set of values: what the statistics
/// of several files pool into exactly, with Chan, Golub and LeVeque's update (stable: it never
/// subtracts two large sums of squares).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Values pooled.
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    squared_deviations: f64,
}

impl Moments {
    /// The moments of `count` values with these statistics (stddev the population one).
    pub fn of(count: u64, min: f64, max: f64, mean: f64, stddev: f64) -> Moments {
        Moments { count, min, max, mean, squared_deviations: stddev * stddev * count as f64 }
    }

    /// The moments of the union of both sets.
    pub fn merge(self, other: Moments) -> Moments {
        if self.count == 0 || other.count == 0 {
            return if self.count == 0 { other } else { self };
        }
        let count = self.count + other.count;
        let delta = other.mean - self.mean;
        let share = other.count as f64 / count as f64;
        Moments {
            count,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
            mean: self.mean + delta * share,
            squared_deviations: self.squared_deviations
                + other.squared_deviations
                + delta * delta * self.count as f64 * share,
        }
    }

    /// Population standard deviation; None without values.
    pub fn stddev(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.squared_deviations / self.count as f64).max(0.0).sqrt())
    }
}

/// How a band's values are kept until the end of the scan.
#[derive(Debug)]
enum Store {
    /// counts[v - offset] for integer bands of at most 16 bits, and the lowest and highest bin
    /// a value fell in (the nodata tag's bin, emptied after each strip, may be one of them):
    /// later passes run over those only, and the bins outside are never touched (a
    /// 16-bit band's 512 KB of bins costs page faults, not only time, when a 256 px patch uses a
    /// few thousand of them).
    Histogram {
        offset: i64,
        counts: Vec<u64>,
        used: Option<(usize, usize)>,
    },
    Float32(Float32Values),
    Float64(Vec<f64>),
}

/// A float32 band's valid values, and what a pass over them gives, counted as they arrive: the
/// strip is then still in the cache, where a pass at the end reads the whole band from memory
/// again. The values arrive in the order they are kept, so the sum is the one that pass made.
#[derive(Debug)]
struct Float32Values {
    values: Vec<f32>,
    sum: f64,
    min: f32,
    max: f32,
    histogram: F32Histogram,
}

impl Float32Values {
    /// Room for `pixels` values, reserved at once: grown a strip at a time, a 2000 px band's
    /// buffer was copied into larger ones seven times, each on pages new to the process.
    fn new(pixels: usize, pool: &mut StatsPool) -> Float32Values {
        let histogram = F32Histogram::new(pool.take(F32_BINS)).expect("the pool gives the bins asked for");
        let mut values = pool.take_values();
        values.reserve_exact(pixels);
        Float32Values { values, sum: 0.0, min: f32::INFINITY, max: f32::NEG_INFINITY, histogram }
    }

    /// Counts the values kept from `start` on; returns how many there are.
    fn count_from(&mut self, start: usize) -> u64 {
        let Float32Values { values, sum, min, max, histogram } = self;
        let arrived = &values[start..];
        for &v in arrived {
            *sum += f64::from(v);
            histogram.add(v);
        }
        let (low, high) = extremes(arrived);
        (*min, *max) = (min.min(low), max.max(high));
        arrived.len() as u64
    }
}

/// The smallest and largest of `values` (none NaN; infinity and -infinity when there is none),
/// in 8 lanes: the extremes are the same in any order, and lanes that the compiler keeps in
/// vector registers do not each wait for the comparison before, as one running extreme does.
fn extremes(values: &[f32]) -> (f32, f32) {
    const LANES: usize = 8;
    let (mut low, mut high) = ([f32::INFINITY; LANES], [f32::NEG_INFINITY; LANES]);
    let (chunks, rest) = values.as_chunks::<LANES>();
    for chunk in chunks {
        for lane in 0..LANES {
            low[lane] = if chunk[lane] < low[lane] { chunk[lane] } else { low[lane] };
            high[lane] = if chunk[lane] > high[lane] { chunk[lane] } else { high[lane] };
        }
    }
    let fold = |lanes: [f32; LANES], extreme: fn(f32, f32) -> f32| rest.iter().copied().chain(lanes).reduce(extreme);
    (fold(low, f32::min).unwrap_or(f32::INFINITY), fold(high, f32::max).unwrap_or(f32::NEG_INFINITY))
}

/// What an ingest worker's statistics keep from one file to the next:
/// - zeroed histogram bins: a 16-bit band's 65,536 bins are 512 KB to allocate and zero per band
///   and file otherwise, more than counting the 65,536 values of a 256 px patch. Bins come back
///   zeroed over the range that was counted;
/// - emptied float32 value buffers: a 2000 px band's 16 MB is 4,000 pages that the kernel
///   otherwise maps and zeroes anew for each file (a quarter of a million page faults in the
///   SEN12TP bench's ingest). At most [`MAX_POOLED_VALUE_BYTES`] of them are kept.
#[derive(Debug, Default)]
pub struct StatsPool {
    free: Vec<Vec<u64>>,
    values: Vec<Vec<f32>>,
}

/// The float32 value buffers a [`StatsPool`] keeps at most, in bytes of capacity: the five
/// float bands of a 2000 px SEN12TP S1 file.
pub const MAX_POOLED_VALUE_BYTES: usize = 80 << 20;

impl StatsPool {
    /// `bins` zeroed bins.
    fn take(&mut self, bins: usize) -> Vec<u64> {
        match self.free.iter().position(|counts| counts.len() == bins) {
            Some(at) => self.free.swap_remove(at),
            None => vec![0; bins],
        }
    }

    /// Takes bins back, of which only `used` may be other than zero.
    fn give(&mut self, mut counts: Vec<u64>, used: Option<(usize, usize)>) {
        if let Some((low, high)) = used {
            counts[low..=high].fill(0);
        }
        self.free.push(counts);
    }

    /// An empty float32 value buffer, the largest kept.
    fn take_values(&mut self) -> Vec<f32> {
        let largest = (0..self.values.len()).max_by_key(|&at| self.values[at].capacity());
        largest.map_or_else(Vec::new, |at| self.values.swap_remove(at))
    }

    /// Keeps `values`' buffer, emptied, unless the pool would then hold more than
    /// [`MAX_POOLED_VALUE_BYTES`].
    fn give_values(&mut self, mut values: Vec<f32>) {
        let kept: usize = self.values.iter().map(Vec::capacity).sum();
        if (kept + values.capacity()) * std::mem::size_of::<f32>() <= MAX_POOLED_VALUE_BYTES {
            values.clear();
            self.values.push(values);
        }
    }
}

/// Accumulates one band strip by strip.
#[derive(Debug)]
pub struct BandAccumulator {
    nodata: Option<f64>,
    nodata_count: u64,
    store: Store,
}

impl BandAccumulator {
    /// `dtype` is the band's GDAL type; `nodata` its nodata tag (NaN is always excluded).
    pub fn new(dtype: GdalDataType, nodata: Option<f64>) -> Self {
        Self::new_in(dtype, nodata, 0, &mut StatsPool::default())
    }

    /// As [`BandAccumulator::new`], for a band of `pixels` pixels, with the histogram's bins and
    /// the value buffers taken from `pool`.
    pub fn new_in(dtype: GdalDataType, nodata: Option<f64>, pixels: usize, pool: &mut StatsPool) -> Self {
        let store = match (histogram_range(dtype), dtype) {
            (Some((offset, bins)), _) => Store::Histogram { offset, counts: pool.take(bins), used: None },
            (None, GdalDataType::Float32) => Store::Float32(Float32Values::new(pixels, pool)),
            _ => Store::Float64(Vec::new()),
        };
        BandAccumulator { nodata, nodata_count: 0, store }
    }

    /// Bytes a band of `dtype` keeps per pixel until `finish`: 0 for the histogram types.
    pub fn bytes_per_kept_value(dtype: GdalDataType) -> usize {
        match (histogram_range(dtype), dtype) {
            (Some(_), _) => 0,
            (None, GdalDataType::Float32) => 4,
            _ => 8,
        }
    }

    /// The band's nodata tag.
    pub fn nodata(&self) -> Option<f64> {
        self.nodata
    }

    /// Whether any value of the band can be nodata: it has a tag, or it is a float band (NaN).
    pub fn can_be_nodata(&self) -> bool {
        self.nodata.is_some() || !matches!(self.store, Store::Histogram { .. })
    }

    /// Adds a strip of values read as f64 (exact for every GDAL type but 64-bit integers), as GDAL
    /// reads them in the band's own type: an 8- or 16-bit band's values are never NaN.
    pub fn push(&mut self, values: &[f64]) {
        let nodata = self.nodata;
        let is_nodata = |v: f64| is_nodata(v, nodata);
        let kept = match &mut self.store {
            // An 8- or 16-bit band's values, read as f64, are exact integers.
            Store::Histogram { .. } => {
                return self.push_integers(&values.iter().map(|v| *v as i32).collect::<Vec<_>>())
            }
            Store::Float32(kept) => {
                let start = kept.values.len();
                kept.values.extend(values.iter().filter(|v| !is_nodata(**v)).map(|v| *v as f32));
                kept.count_from(start)
            }
            Store::Float64(kept_values) => {
                let start = kept_values.len();
                kept_values.extend(values.iter().copied().filter(|v| !is_nodata(*v)));
                (kept_values.len() - start) as u64
            }
        };
        self.nodata_count += values.len() as u64 - kept;
    }

    /// Whether the band is counted in a histogram (8- and 16-bit integers), so that its values
    /// can be pushed as integers.
    pub fn counts_integers(&self) -> bool {
        matches!(self.store, Store::Histogram { .. })
    }

    /// As [`BandAccumulator::push`], for a band that [counts
    /// integers](BandAccumulator::counts_integers), its values read in its own type or as i32.
    pub fn push_integers<T: Sample + Ord + Into<i64>>(&mut self, values: &[T]) {
        let Store::Histogram { offset, counts, used } = &mut self.store else {
            return self.push(&values.iter().map(|v| Into::<f64>::into(*v)).collect::<Vec<_>>());
        };
        let kept = count_in_histogram(values, self.nodata, *offset, counts, used);
        self.nodata_count += values.len() as u64 - kept;
    }

    /// As [`BandAccumulator::push`], for values read as float32.
    pub fn push_f32s(&mut self, values: &[f32]) {
        let Store::Float32(kept) = &mut self.store else {
            return self.push(&values.iter().map(|v| f64::from(*v)).collect::<Vec<_>>());
        };
        let is_nodata = f32::nodata_test(self.nodata);
        let start = kept.values.len();
        // A strip with no nodata (the usual one) is copied whole: asking every value first is a
        // loop without branches, which the compiler vectorizes; filtering is not.
        if values.iter().fold(false, |any, v| any | is_nodata(*v)) {
            kept.values.extend(values.iter().copied().filter(|v| !is_nodata(*v)));
        } else {
            kept.values.extend_from_slice(values);
        }
        self.nodata_count += values.len() as u64 - kept.count_from(start);
    }

    /// Counts per value, for class maps (land cover); None for non-histogram bands.
    pub fn class_counts(&self) -> Option<Vec<(i64, u64)>> {
        match &self.store {
            Store::Histogram { offset, counts, used } => Some(match occupied(*offset, counts, *used) {
                Some((first, bins)) => {
                    bins.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (i as i64 + first, *c)).collect()
                }
                None => Vec::new(),
            }),
            _ => None,
        }
    }

    /// The statistics of everything pushed.
    pub fn finish(self) -> BandStats {
        self.finish_into(&mut StatsPool::default())
    }

    /// As [`BandAccumulator::finish`], giving the histogram's bins back to `pool`.
    pub fn finish_into(self, pool: &mut StatsPool) -> BandStats {
        let mut sketch = QuantileSketch::new();
        let (valid_count, summary) = match self.store {
            Store::Histogram { offset, counts, used } => {
                let summary = match occupied(offset, &counts, used) {
                    Some((first, bins)) => {
                        sketch.add_integer_counts(first, bins);
                        histogram_summary(first, bins)
                    }
                    None => (0, None),
                };
                pool.give(counts, used);
                summary
            }
            Store::Float32(kept) => float32_statistics(kept, pool, &mut sketch),
            Store::Float64(values) => {
                sketch.add_all(values.iter().map(|v| (*v, 1)));
                values_summary(&values)
            }
        };
        BandStats { valid_count, nodata_count: self.nodata_count, summary, sketch }
    }
}

/// Counts the values of an integer band other than its nodata tag into `counts` (bin 0 holds the
/// value `offset`), widens `used` to the bins counted, and returns how many were counted.
/// Every value is counted, the tag's too, and the tag's bin is emptied afterwards: the loop then
/// has one store a value and nothing to decide. The bins used come from the strip's extremes,
/// which the compiler finds with vector instructions.
fn count_in_histogram<T: Sample + Ord + Into<i64>>(
    values: &[T],
    nodata: Option<f64>,
    offset: i64,
    counts: &mut [u64],
    used: &mut Option<(usize, usize)>,
) -> u64 {
    let Some(&first) = values.first() else { return 0 };
    let (min, max) = values.iter().fold((first, first), |(min, max), &v| (min.min(v), max.max(v)));
    let bin = |v: T| Into::<i64>::into(v) - offset;
    let bins = 0..counts.len() as i64;
    // GDAL hands out values of the band's own type, so every value has its bin; one that had none
    // would be left out, as nodata.
    let outside = match bins.contains(&bin(min)) && bins.contains(&bin(max)) {
        true => 0,
        false => values.iter().filter(|v| !bins.contains(&bin(**v))).count() as u64,
    };
    if outside == 0 && counts.len() <= SMALL_BINS {
        count_in_lanes(values, |v| bin(v) as usize, counts);
    } else {
        for &v in values {
            if let Some(count) = counts.get_mut(bin(v) as usize) {
                *count += 1;
            }
        }
    }
    let tag_bin = T::held_tag(nodata).map(bin).filter(|b| bins.contains(b));
    let tagged = tag_bin.map_or(0, |b| std::mem::take(&mut counts[b as usize]));
    let last = counts.len() as i64 - 1;
    let (low, high) = (bin(min).clamp(0, last) as usize, bin(max).clamp(0, last) as usize);
    let (old_low, old_high) = used.unwrap_or((low, high));
    *used = Some((old_low.min(low), old_high.max(high)));
    values.len() as u64 - outside - tagged
}

/// Histograms of at most this many bins (8-bit bands) are counted in lanes.
const SMALL_BINS: usize = 256;

/// Adds `bins` (each below SMALL_BINS) to `counts` through four tables taken in turn: a class map
/// repeats one value for long runs, and four tables let four increments of one bin be under way
/// at once instead of each waiting for the store of the one before.
fn count_in_lanes<T: Copy>(values: &[T], bin: impl Fn(T) -> usize, counts: &mut [u64]) {
    let mut lanes = [[0u32; SMALL_BINS]; 4];
    let quads = values.chunks_exact(4);
    for &v in quads.remainder() {
        lanes[0][bin(v) % SMALL_BINS] += 1;
    }
    for quad in quads {
        for (lane, &v) in lanes.iter_mut().zip(quad) {
            lane[bin(v) % SMALL_BINS] += 1;
        }
    }
    for (bin, count) in counts.iter_mut().enumerate() {
        *count += lanes.iter().map(|lane| u64::from(lane[bin])).sum::<u64>();
    }
}

/// (lowest value, bins) of the types counted in a histogram.
fn histogram_range(dtype: GdalDataType) -> Option<(i64, usize)> {
    match dtype {
        GdalDataType::UInt8 => Some((0, 256)),
        GdalDataType::UInt16 => Some((0, 65536)),
        GdalDataType::Int16 => Some((-32768, 65536)),
        _ => None,
    }
}

/// The occupied part of a histogram whose counted bins lie in `used`: the value of its first
/// non-empty bin and the bins from there to the last non-empty one (None when none is). The ends
/// of `used` may be empty (the nodata tag's bin, emptied after counting).
fn occupied(offset: i64, counts: &[u64], used: Option<(usize, usize)>) -> Option<(i64, &[u64])> {
    let (low, high) = used?;
    let first = low + counts[low..=high].iter().position(|c| *c > 0)?;
    let last = high - counts[first..=high].iter().rev().position(|c| *c > 0)?;
    Some((offset + first as i64, &counts[first..=last]))
}

/// Statistics of the bins `counts`, the first of which holds the value `offset` and is not empty.
fn histogram_summary(offset: i64, counts: &[u64]) -> (u64, Option<Summary>) {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return (0, None);
    }
    let value = |i: usize| i as i64 + offset;
    let (mut sum, mut sum_sq) = (0i128, 0i128);
    for (i, &c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
        let v = i128::from(value(i));
        sum += v * i128::from(c);
        sum_sq += v * v * i128::from(c);
    }
    // n * sum_sq - sum^2 is exact in i128, so the variance has a single rounding.
    let n_wide = i128::from(n);
    let variance = (n_wide * sum_sq - sum * sum) as f64 / (n as f64 * n as f64);
    let located = locate_ranks(counts.iter().copied().enumerate(), &percentile_ranks(n));
    let at: Vec<f64> = located.iter().map(|&(bin, _)| value(bin) as f64).collect();
    let percentiles = percentiles(n, &at);
    let (min, max) = (offset as f64, value(counts.len() - 1) as f64);
    (n, Some(Summary { min, max, mean: sum as f64 / n as f64, stddev: variance.max(0.0).sqrt(), percentiles }))
}

/// The [`PERCENTILES`] of `n` values (n > 0), numpy's linear definition, from `at`: the values at
/// the 0-based ranks of the sorted order that [`percentile_ranks`]`(n)` gives, in its order.
fn percentiles(n: u64, at: &[f64]) -> [f64; 3] {
    [0, 1, 2].map(|i| at[2 * i] + (at[2 * i + 1] - at[2 * i]) * rank_pair(PERCENTILES[i], n).2)
}

/// The ranks [`percentiles`] asks for: the lower and upper rank of each of [`PERCENTILES`].
fn percentile_ranks(n: u64) -> Vec<u64> {
    PERCENTILES
        .iter()
        .flat_map(|q| {
            let (lower, upper, _) = rank_pair(*q, n);
            [lower, upper]
        })
        .collect()
}

/// numpy's linear percentile lies between the values at ranks floor(h) and floor(h) + 1, h = q (n - 1):
/// (lower rank, upper rank, fraction of the way).
fn rank_pair(q: f64, n: u64) -> (u64, u64, f64) {
    let h = q * (n - 1) as f64;
    let lower = h.floor() as u64;
    (lower, (lower + 1).min(n - 1), h - lower as f64)
}

/// A float64 mapped to an unsigned integer of the same order, so values can be binned by their
/// top bits.
fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 0x8000_0000_0000_0000
    }
}

/// The values at the given ranks (0-based, of the sorted order) in two linear passes: count the
/// values per bin of their top key bits (8 to 16 of them: about 8 values a bin, so the bins of a
/// 256 px patch do not outweigh its values), then sort only the few bins that hold the ranks.
fn values_at_ranks(values: &[f64], ranks: &[u64]) -> Vec<f64> {
    let bits = (values.len() / 8).max(1).ilog2().clamp(8, 16);
    let bin = |v: f64| (order_key(v) >> (64 - bits)) as usize;
    let mut counts = vec![0u64; 1 << bits];
    values.iter().for_each(|v| counts[bin(*v)] += 1);
    // For each rank: its bin and its rank inside the bin.
    let located = locate_ranks(counts.iter().copied().enumerate(), ranks);
    let mut wanted: Vec<usize> = located.iter().map(|l| l.0).collect();
    wanted.sort_unstable();
    wanted.dedup();
    // The member list of each bin, by a lookup per value (NOT_WANTED: none).
    const NOT_WANTED: u8 = u8::MAX;
    let mut slot_of_bin = vec![NOT_WANTED; counts.len()];
    wanted.iter().enumerate().for_each(|(slot, &bin)| slot_of_bin[bin] = slot as u8);
    let mut members: Vec<Vec<f64>> = vec![Vec::new(); wanted.len()];
    for v in values {
        if let Some(list) = members.get_mut(slot_of_bin[bin(*v)] as usize) {
            list.push(*v);
        }
    }
    members.iter_mut().for_each(|m| m.sort_unstable_by_key(|v| order_key(*v)));
    located
        .iter()
        .map(|(bin_index, inner)| {
            let slot = wanted.binary_search(bin_index).unwrap_or(0);
            members[slot].get(*inner as usize).copied().unwrap_or(f64::NAN)
        })
        .collect()
}

/// Statistics of a float32 band's valid values and their quantile sketch, after the sum,
/// extremes and histogram of their top bits were counted as they arrived: one more pass, for what
/// needs the mean or the whole histogram (the squared deviations from the mean, the values of the
/// few bins that hold the percentile ranks, and those of bins that straddle one of the sketch's
/// bucket edges).
fn float32_statistics(
    kept: Float32Values,
    pool: &mut StatsPool,
    sketch: &mut QuantileSketch,
) -> (u64, Option<Summary>) {
    let Float32Values { values, sum, min, max, histogram } = kept;
    let n = values.len() as u64;
    let used = histogram.used();
    if n == 0 {
        pool.give(histogram.into_counts(), used);
        pool.give_values(values);
        return (0, None);
    }
    let mean = sum / n as f64;
    let mut at_ranks = histogram.rank_finder(&percentile_ranks(n));
    let mut edges = sketch.f32_edges(&histogram);
    let squared_deviations = squared_deviations_seen(&values, mean, &mut at_ranks, &mut edges);
    edges.finish(sketch, &values);
    pool.give(histogram.into_counts(), used);
    pool.give_values(values);
    let percentiles = percentiles(n, &at_ranks.values());
    let (min, max) = (f64::from(min), f64::from(max));
    (n, Some(Summary { min, max, mean, stddev: (squared_deviations / n as f64).sqrt(), percentiles }))
}

/// The sum of the squared deviations of `values` from `mean`, in their order, each value seen by
/// the rank finder and the sketch's edges on the way: one pass whose running sum waits on no
/// memory. Not inlined, where the sum was kept on the stack, and each finder and edges an
/// argument of its own, which the compiler knows no store through the other changes.
#[inline(never)]
fn squared_deviations_seen(values: &[f32], mean: f64, at_ranks: &mut RankFinder, edges: &mut F32Edges) -> f64 {
    let mut squared_deviations = 0.0;
    for &v in values {
        squared_deviations += (f64::from(v) - mean).powi(2);
        at_ranks.see(v);
        edges.see(v);
    }
    squared_deviations
}

fn values_summary(values: &[f64]) -> (u64, Option<Summary>) {
    let n = values.len() as u64;
    if n == 0 {
        return (0, None);
    }
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for &v in values {
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    let mean = sum / n as f64;
    // Two passes: the sum of squared deviations from the mean does not cancel like sum_sq - sum^2.
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    let percentiles = percentiles(n, &values_at_ranks(values, &percentile_ranks(n)));
    (n, Some(Summary { min, max, mean, stddev: variance.sqrt(), percentiles }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use GdalDataType::*;

    fn stats(dtype: GdalDataType, nodata: Option<f64>, values: &[f64]) -> BandStats {
        let mut acc = BandAccumulator::new(dtype, nodata);
        let (a, b) = values.split_at(values.len() / 2);
        acc.push(a);
        acc.push(b);
        acc.finish()
    }

    #[test]
    fn histogram_and_value_paths_agree_with_a_hand_computation() {
        // Valid values 1, 2, 3, 4, 10 (0 is nodata): mean 4, population variance 10.
        // numpy.percentile([1,2,3,4,10], [2,50,98]) = [1.08, 3.0, 9.52].
        let values = [0.0, 3.0, 1.0, 10.0, 4.0, 2.0, 0.0];
        for dtype in [UInt16, Int16, UInt8, Float32, Float64, Int32] {
            let s = stats(dtype, Some(0.0), &values);
            assert_eq!((s.valid_count, s.nodata_count), (5, 2), "{dtype}");
            let m = s.summary.unwrap();
            assert_eq!((m.min, m.max, m.mean), (1.0, 10.0, 4.0), "{dtype}");
            assert!((m.stddev - 10f64.sqrt()).abs() < 1e-12, "{dtype}");
            for (got, want) in m.percentiles.iter().zip([1.08, 3.0, 9.52]) {
                assert!((got - want).abs() < 1e-9, "{dtype}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn nan_is_never_valid_and_negative_int16_bins_work() {
        let s = stats(Float32, None, &[f64::NAN, -1.5, 2.5]);
        assert_eq!((s.valid_count, s.nodata_count), (2, 1));
        assert_eq!(s.summary.unwrap().mean, 0.5);
        let s = stats(Int16, Some(-32768.0), &[-32768.0, -400.0, 300.0]);
        let m = s.summary.unwrap();
        assert_eq!((m.min, m.max, m.percentiles[1]), (-400.0, 300.0, -50.0));
    }

    #[test]
    fn each_type_tests_nodata_as_the_one_rule_does() {
        fn agree<T: Sample + std::fmt::Debug>(values: &[T]) {
            let tags = [None, Some(0.0), Some(-0.0), Some(255.0), Some(-1.0), Some(0.5), Some(65535.0), Some(-32768.0)];
            let extra = [Some(1e300), Some(f64::NAN), Some(f64::INFINITY), Some(4294967295.0), Some(-2147483648.0)];
            for tag in tags.into_iter().chain(extra) {
                let test = T::nodata_test(tag);
                for &v in values {
                    assert_eq!(test(v), is_nodata(v.into(), tag), "{v:?} with tag {tag:?}");
                }
            }
        }
        agree(&[0u8, 1, 255]);
        agree(&[0u16, 255, 65535]);
        agree(&[-32768i16, -1, 0, 255]);
        agree(&[0u32, 255, u32::MAX]);
        agree(&[i32::MIN, -32768, -1, 0, 65535]);
        agree(&[f32::NAN, -0.0, 0.0, 0.5, -1.0, 255.0, f32::INFINITY, 1e30]);
        agree(&[f64::NAN, -0.0, 0.0, 0.5, 1e300, f64::INFINITY, -32768.0]);
    }

    #[test]
    fn an_all_nodata_band_has_no_summary() {
        let s = stats(UInt16, Some(0.0), &[0.0, 0.0]);
        assert_eq!((s.valid_count, s.nodata_count, s.summary), (0, 2, None));
    }

    #[test]
    fn radix_ranks_agree_with_a_full_sort() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let values: Vec<f64> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x % 100_000) as f64 - 50_000.0) / 7.0
            })
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let ranks = [0, 1, 399, 400, 9_999, 10_000, 19_998, 19_999];
        let expected: Vec<f64> = ranks.iter().map(|r| sorted[*r as usize]).collect();
        assert_eq!(values_at_ranks(&values, &ranks), expected);
    }

    #[test]
    fn pooled_moments_equal_the_moments_of_the_union() {
        // [1, 2, 3] and [10, 20]: union mean 7.2, population variance 254.8 / 5 = 50.96.
        let of = |values: &[f64]| {
            let s = stats(Float64, None, values).summary.unwrap();
            Moments::of(values.len() as u64, s.min, s.max, s.mean, s.stddev)
        };
        let pooled = of(&[1.0, 2.0, 3.0]).merge(of(&[10.0, 20.0])).merge(Moments::of(0, 0.0, 0.0, 0.0, 0.0));
        assert_eq!((pooled.count, pooled.min, pooled.max), (5, 1.0, 20.0));
        assert!((pooled.mean - 7.2).abs() < 1e-12 && (pooled.stddev().unwrap() - 50.96f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn bins_and_buffers_from_the_pool_count_as_fresh_ones() {
        let mut pool = StatsPool::default();
        let float32 = [(Float32, vec![2.5, -1.0, 1e-30, 2.5]), (Float32, vec![0.5]), (Float32, vec![f64::NAN])];
        let integers = [(UInt16, vec![7.0, 65535.0, 7.0]), (UInt16, vec![3.0, 9.0]), (Int16, vec![-5.0, 4.0])];
        for (dtype, values) in float32.into_iter().chain(integers) {
            let mut pooled = BandAccumulator::new_in(dtype, None, values.len(), &mut pool);
            pooled.push(&values);
            assert_eq!(pooled.finish_into(&mut pool), stats(dtype, None, &values), "{dtype} {values:?}");
        }
        assert_eq!((pool.free.len(), pool.values.len()), (1, 1));
        assert!(pool.free[0].iter().all(|c| *c == 0));
        assert!(pool.values[0].is_empty() && pool.values[0].capacity() >= 4);
    }

    #[test]
    fn class_counts_come_from_the_histogram() {
        let mut acc = BandAccumulator::new(UInt8, Some(0.0));
        acc.push(&[10.0, 10.0, 40.0, 0.0]);
        assert_eq!(acc.class_counts(), Some(vec![(10, 2), (40, 1)]));
    }
}
