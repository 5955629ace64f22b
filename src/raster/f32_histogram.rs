//! A histogram of float32 values by their top 16 bits (sign, exponent, top 7 mantissa bits), so
//! that one pass over a float band's values feeds both its exact percentiles (only the few bins
//! that hold the wanted ranks are sorted) and its quantile sketch (a bin inside one sketch bucket
//! is counted at once).

/// Bits of a float32 below its bin: a bin holds the values that share the rest.
pub const BIN_SHIFT: u32 = 16;

/// Bins of a histogram: every sign, exponent and top-mantissa combination.
pub const BINS: usize = 1 << (32 - BIN_SHIFT);

/// The first bin of negative values (the sign bit set).
const FIRST_NEGATIVE: usize = BINS / 2;

/// The bin of a value.
pub fn bin_of(value: f32) -> usize {
    (value.to_bits() >> BIN_SHIFT) as usize
}

/// Whether a bin holds negative values.
pub fn is_negative(bin: usize) -> bool {
    bin >= FIRST_NEGATIVE
}

/// Counts per bin, and the lowest and highest bin counted (`low > high` while none is).
#[derive(Debug)]
pub struct F32Histogram {
    counts: Box<[u64; BINS]>,
    low: usize,
    high: usize,
}

impl F32Histogram {
    /// A histogram counting into `counts`, [`BINS`] zeroed bins (None for another length).
    pub fn new(counts: Vec<u64>) -> Option<F32Histogram> {
        let counts = counts.into_boxed_slice().try_into().ok()?;
        Some(F32Histogram { counts, low: BINS, high: 0 })
    }

    /// Counts one value (a fixed-size array and no branch: this runs for every value of a band).
    #[inline]
    pub fn add(&mut self, value: f32) {
        let bin = bin_of(value);
        self.counts[bin] += 1;
        self.low = self.low.min(bin);
        self.high = self.high.max(bin);
    }

    /// The lowest and highest bin counted; None when nothing is.
    pub fn used(&self) -> Option<(usize, usize)> {
        (self.low <= self.high).then_some((self.low, self.high))
    }

    /// (bin, count) of the bins between the lowest and the highest counted.
    pub fn occupied(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        (self.low..=self.high).map(|bin| (bin, self.counts[bin])).filter(|(_, count)| *count > 0)
    }

    /// (bin, count) of every bin in the used range, in the order of their values: the negative
    /// bins from the largest magnitude down (their bits grow with the magnitude), then the
    /// positive ones up.
    fn in_value_order(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let negative = (self.low.max(FIRST_NEGATIVE)..=self.high).rev();
        let positive = self.low..=self.high.min(FIRST_NEGATIVE - 1);
        negative.chain(positive).map(|bin| (bin, self.counts[bin]))
    }

    /// The values at the given ranks (0-based, of the sorted order) of `values`, the values this
    /// histogram counted: [`F32Histogram::rank_finder`], then each value seen once.
    pub fn values_at_ranks(&self, values: &[f32], ranks: &[u64]) -> Vec<f64> {
        let mut finder = self.rank_finder(ranks);
        values.iter().for_each(|v| finder.see(*v));
        finder.values()
    }

    /// What finds the values at the given ranks (0-based, of the sorted order) of the values this
    /// histogram counted: the bins holding the ranks come from the counts, and only their values
    /// are kept, as each is [seen](RankFinder::see) in whichever pass the caller makes, and sorted.
    pub fn rank_finder(&self, ranks: &[u64]) -> RankFinder {
        let (low, high) = self.used().unwrap_or((0, 0));
        let located = locate_ranks(self.in_value_order(), ranks);
        let mut wanted: Vec<usize> = located.iter().map(|(bin, _)| *bin).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut slot_of_bin = vec![NOT_WANTED; high - low + 1];
        wanted.iter().enumerate().for_each(|(slot, &bin)| slot_of_bin[bin - low] = slot as u8);
        // One run of places per wanted bin.
        let mut next = [0; SLOTS];
        let mut runs = Vec::with_capacity(wanted.len());
        for (slot, &bin) in wanted.iter().enumerate() {
            let start = runs.last().map_or(0, |run: &std::ops::Range<usize>| run.end);
            runs.push(start..start + self.counts[bin] as usize);
            next[slot] = start;
        }
        let gathered = vec![0.0; runs.last().map_or(0, |run| run.end)];
        RankFinder { low, located, slot_of_bin, gathered, next, runs }
    }

    /// The bins, to be given back zeroed over [`F32Histogram::used`].
    pub fn into_counts(self) -> Vec<u64> {
        (self.counts as Box<[u64]>).into_vec()
    }
}

/// A bin no rank falls in, in [`RankFinder`]'s lookup.
const NOT_WANTED: u8 = u8::MAX;

/// Slots of a [`RankFinder`]: a wanted bin's, or NOT_WANTED.
const SLOTS: usize = NOT_WANTED as usize + 1;

/// The values of the few bins that hold some ranks, gathered value by value
/// ([`F32Histogram::rank_finder`]).
pub struct RankFinder {
    /// The histogram's lowest used bin.
    low: usize,
    /// For each rank: its bin and its rank among the bin's values.
    located: Vec<(usize, u64)>,
    /// The slot of each bin (NOT_WANTED: none).
    slot_of_bin: Vec<u8>,
    /// The wanted bins' values, a run each.
    gathered: Vec<f32>,
    /// Where each slot's next value goes.
    next: [usize; SLOTS],
    /// Each wanted bin's run in `gathered`.
    runs: Vec<std::ops::Range<usize>>,
}

impl RankFinder {
    /// Keeps `value` (one the histogram counted) when its bin holds a rank: a branch that is
    /// rarely taken (the ranks' few bins), and no call, so a pass that sees every value keeps its
    /// running sums in registers.
    #[inline]
    pub fn see(&mut self, value: f32) {
        let slot = usize::from(self.slot_of_bin[bin_of(value) - self.low]);
        if slot != usize::from(NOT_WANTED) {
            let at = self.next[slot];
            // Always a place: the runs are the sizes the histogram counted.
            if let Some(place) = self.gathered.get_mut(at) {
                *place = value;
            }
            self.next[slot] = at + 1;
        }
    }

    /// The values at the ranks, in the order asked (NaN when nothing was counted).
    pub fn values(mut self) -> Vec<f64> {
        // One bin holds values of one sign, where the total order is the numeric one.
        self.runs.iter().for_each(|run| self.gathered[run.clone()].sort_unstable_by(f32::total_cmp));
        self.located
            .iter()
            .map(|(bin, inner)| {
                let run = &self.runs[usize::from(self.slot_of_bin[bin - self.low])];
                self.gathered[run.clone()].get(*inner as usize).map_or(f64::NAN, |v| f64::from(*v))
            })
            .collect()
    }
}

/// For each rank (0-based, in any order): the bin that holds it and its rank among the bin's
/// values, in one walk over `bins` ((bin, count) in value order); ranks past the last value are
/// placed in the last bin.
pub fn locate_ranks(mut bins: impl Iterator<Item = (usize, u64)>, ranks: &[u64]) -> Vec<(usize, u64)> {
    let mut order: Vec<usize> = (0..ranks.len()).collect();
    order.sort_by_key(|&k| ranks[k]);
    let mut located = vec![(0, 0); ranks.len()];
    let mut seen = 0u64;
    let mut current = bins.next().unwrap_or((0, 0));
    for k in order {
        while seen + current.1 <= ranks[k] {
            let Some(next) = bins.next() else { break };
            seen += current.1;
            current = next;
        }
        located[k] = (current.0, ranks[k].saturating_sub(seen));
    }
    located
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram_of(values: &[f32]) -> F32Histogram {
        let mut histogram = F32Histogram::new(vec![0; BINS]).unwrap();
        values.iter().for_each(|v| histogram.add(*v));
        histogram
    }

    #[test]
    fn ranks_of_both_signs_agree_with_a_full_sort() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut values: Vec<f32> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x % 100_000) as f32 - 50_000.0) / 7.0
            })
            .collect();
        values.extend([0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-40]);
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        let last = values.len() as u64 - 1;
        let ranks = [0, 1, 399, 400, 9_999, 10_000, 10_003, last - 1, last];
        let expected: Vec<f64> = ranks.iter().map(|r| f64::from(sorted[*r as usize])).collect();
        assert_eq!(histogram_of(&values).values_at_ranks(&values, &ranks), expected);
    }

    #[test]
    fn a_value_of_one_sign_is_found_in_either_half() {
        for values in [vec![-3.5f32, -1.25, -1.25, -0.5], vec![0.5f32, 2.0, 2.0, 3.5]] {
            let mut sorted = values.clone();
            sorted.sort_by(f32::total_cmp);
            let expected: Vec<f64> = sorted.iter().map(|v| f64::from(*v)).collect();
            assert_eq!(histogram_of(&values).values_at_ranks(&values, &[0, 1, 2, 3]), expected);
        }
    }

    #[test]
    fn ranks_past_the_end_fall_in_the_last_bin() {
        let bins = [(3usize, 2u64), (5, 0), (9, 1)];
        assert_eq!(locate_ranks(bins.into_iter(), &[2, 0, 1, 7]), [(9, 0), (3, 0), (3, 1), (9, 5)]);
    }
}
