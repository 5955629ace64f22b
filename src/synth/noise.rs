//! Deterministic randomness for synthetic data: a SplitMix64 generator and smooth value noise.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize
    }

    /// Approximately standard normal (sum of four uniforms, rescaled): cheap and bounded.
    pub fn normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.uniform()).sum();
        (sum - 2.0) * (3.0f64).sqrt()
    }
}

/// Smooth noise in [0, 1): random values on a lattice every `cell` pixels, interpolated with a
/// smoothstep; `octaves` halvings of the cell are added with halving weight.
pub fn fractal_noise(size: usize, cell: usize, octaves: u32, rng: &mut Rng) -> Vec<f32> {
    let mut field = vec![0f32; size * size];
    let mut weight = 1.0f32;
    let mut total = 0.0f32;
    for octave in 0..octaves {
        let cell = (cell >> octave).max(2);
        add_value_noise(&mut field, size, cell, weight, rng);
        total += weight;
        weight *= 0.5;
    }
    field.iter_mut().for_each(|v| *v /= total);
    field
}

fn add_value_noise(field: &mut [f32], size: usize, cell: usize, weight: f32, rng: &mut Rng) {
    let nodes = size / cell + 2;
    let lattice: Vec<f32> = (0..nodes * nodes).map(|_| rng.uniform() as f32).collect();
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    for y in 0..size {
        let (gy, ty) = (y / cell, smooth((y % cell) as f32 / cell as f32));
        for x in 0..size {
            let (gx, tx) = (x / cell, smooth((x % cell) as f32 / cell as f32));
            let at = |i: usize, j: usize| lattice[(gy + j) * nodes + gx + i];
            let top = at(0, 0) + (at(1, 0) - at(0, 0)) * tx;
            let bottom = at(0, 1) + (at(1, 1) - at(0, 1)) * tx;
            field[y * size + x] += weight * (top + (bottom - top) * ty);
        }
    }
}

/// The value below which a `share` of the field lies (from a regular subsample).
pub fn quantile(field: &[f32], share: f64) -> f32 {
    let mut sample: Vec<f32> = field.iter().step_by(37).copied().collect();
    sample.sort_by(f32::total_cmp);
    let index = ((sample.len() - 1) as f64 * share.clamp(0.0, 1.0)).round() as usize;
    sample[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_noise_stays_in_range() {
        let (a, b) = (fractal_noise(64, 16, 3, &mut Rng::new(7)), fractal_noise(64, 16, 3, &mut Rng::new(7)));
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
        assert_ne!(a, fractal_noise(64, 16, 3, &mut Rng::new(8)));
        let q = quantile(&a, 0.5);
        let below = a.iter().filter(|v| **v < q).count() as f64 / a.len() as f64;
        assert!((below - 0.5).abs() < 0.05, "{below}");
    }
}
