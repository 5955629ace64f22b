//! A synthetic landscape: a land-cover map drives plausible spectra, backscatter and terrain;
//! cloud blobs and swath edges add what real scenes have. All pixel values are derived from here.

use super::noise::{fractal_noise, quantile, Rng};

/// Typical L2A reflectance x 10000 per WorldCover class, bands B1..B8, B8A, B9, B10, B11, B12.
/// Vegetation has high NIR (NDVI 0.5..0.9), water negative NDVI, snow a low SWIR.
const SPECTRA: [(u8, [f32; 13]); 11] = [
    (10, [250., 300., 500., 300., 800., 2200., 2700., 2900., 3000., 3000., 20., 1400., 650.]),
    (20, [400., 500., 750., 800., 1300., 2000., 2300., 2500., 2600., 2600., 25., 2600., 1700.]),
    (30, [350., 450., 750., 600., 1200., 2300., 2700., 2900., 3000., 3000., 20., 2300., 1300.]),
    (40, [300., 400., 700., 450., 1100., 2700., 3300., 3600., 3700., 3700., 20., 2100., 1100.]),
    (50, [1200., 1300., 1400., 1500., 1600., 1700., 1800., 1850., 1900., 1900., 30., 2200., 2000.]),
    (60, [1300., 1500., 1900., 2400., 2600., 2700., 2800., 2900., 3000., 3000., 30., 3500., 3000.]),
    (70, [8500., 8700., 8800., 8600., 8500., 8200., 8000., 7800., 7600., 7000., 40., 600., 500.]),
    (80, [600., 550., 450., 300., 250., 200., 180., 150., 140., 120., 10., 60., 40.]),
    (90, [350., 450., 700., 500., 900., 1600., 1900., 2000., 2100., 2000., 15., 1200., 600.]),
    (95, [250., 320., 520., 320., 850., 2100., 2500., 2700., 2800., 2800., 20., 1300., 600.]),
    (100, [500., 600., 800., 700., 1200., 2000., 2300., 2400., 2500., 2500., 25., 2200., 1500.]),
];

/// Bright, flat cloud reflectance (B10 cirrus included).
const CLOUD: [f32; 13] = [7000., 7200., 7300., 7500., 7600., 7700., 7800., 7900., 7900., 7800., 300., 5000., 4000.];

/// Sigma0 in dB (VV, VH) per class.
const BACKSCATTER: [(u8, f32, f32); 11] = [
    (10, -7.0, -13.0),
    (20, -9.0, -16.0),
    (30, -10.0, -17.0),
    (40, -9.0, -16.0),
    (50, -3.0, -9.0),
    (60, -13.0, -22.0),
    (70, -12.0, -20.0),
    (80, -21.0, -28.0),
    (90, -8.0, -15.0),
    (95, -7.0, -14.0),
    (100, -11.0, -18.0),
];

const VEGETATION: [u8; 6] = [10, 20, 30, 40, 90, 95];

/// Index of B10 in the 13-band order of SPECTRA (SEN12TP files have no B10).
pub const B10: usize = 10;

#[derive(Clone)]
pub struct Landscape {
    pub size: usize,
    /// WorldCover code per pixel.
    pub classes: Vec<u8>,
    /// Plant vigour, 0..1: scales NIR up and red down.
    vigor: Vec<f32>,
    /// Metres above sea level.
    pub terrain: Vec<f32>,
    /// Cloud probability in percent.
    pub cloud: Vec<f32>,
    /// Swath edges: optical and radar no-data regions.
    pub optical_gap: Vec<bool>,
    pub radar_gap: Vec<bool>,
}

/// What makes scenes differ: the dominant class, cloud cover, relief.
pub struct Profile {
    pub dominant: u8,
    pub cloud_cover: f64,
    pub base_height: f32,
    pub relief: f32,
    pub swath_edges: bool,
}

impl Landscape {
    pub fn generate(size: usize, profile: &Profile, rng: &mut Rng) -> Landscape {
        let shape = fractal_noise(size, (size / 4).max(8), 4, rng);
        let classes = classify(&shape, profile.dominant, rng);
        let vigor = fractal_noise(size, (size / 8).max(4), 2, rng);
        let relief = fractal_noise(size, (size / 2).max(8), 3, rng);
        let terrain = relief
            .iter()
            .zip(&shape)
            .map(|(r, s)| profile.base_height + profile.relief * (0.7 * r + 0.3 * s))
            .collect();
        let cloud = clouds(size, profile.cloud_cover, rng);
        let (optical_gap, radar_gap) = if profile.swath_edges {
            (
                corner_cut(size, 0.25 + 0.2 * rng.uniform() as f32, false),
                corner_cut(size, 0.2 + 0.2 * rng.uniform() as f32, true),
            )
        } else {
            (vec![false; size * size], vec![false; size * size])
        };
        Landscape { size, classes, vigor, terrain, cloud, optical_gap, radar_gap }
    }

    /// The same ground under `cover` of cloud: the cloudy twin of a clear SEN12MS-CR patch.
    pub fn under_clouds(&self, cover: f64, rng: &mut Rng) -> Landscape {
        Landscape { cloud: clouds(self.size, cover, rng), ..self.clone() }
    }

    /// Reflectance x 10000 of band `band` (index into the 13-band order) with 3 % noise.
    pub fn reflectance(&self, band: usize, rng: &mut Rng) -> Vec<u16> {
        (0..self.size * self.size)
            .map(|i| {
                if self.optical_gap[i] {
                    return 0;
                }
                let class = self.classes[i];
                let mut value = spectrum(class)[band];
                if VEGETATION.contains(&class) {
                    let vigor = 0.75 + 0.5 * self.vigor[i];
                    value *= match band {
                        3 => 1.0 / vigor,
                        6..=9 => vigor,
                        _ => 1.0,
                    };
                }
                let haze = ((self.cloud[i] - 20.0) / 60.0).clamp(0.0, 1.0);
                value += (CLOUD[band] - value) * haze;
                (value * (1.0 + 0.03 * rng.normal() as f32)).clamp(1.0, 10000.0) as u16
            })
            .collect()
    }

    /// Sigma0 in dB for VV (`cross = false`) or VH, with speckle; NaN in the radar gap.
    pub fn backscatter(&self, cross: bool, rng: &mut Rng) -> Vec<f32> {
        (0..self.size * self.size)
            .map(|i| {
                if self.radar_gap[i] {
                    return f32::NAN;
                }
                let (_, vv, vh) =
                    BACKSCATTER.iter().find(|b| b.0 == self.classes[i]).copied().unwrap_or(BACKSCATTER[5]);
                let (mean, floor) = if cross { (vh, -32.5) } else { (vv, -25.0) };
                (mean + 1.5 * rng.normal() as f32).clamp(floor, -0.01)
            })
            .collect()
    }

    /// Incidence angle in degrees: 30 at the near range (left) to 45 at the far range.
    pub fn incidence_angle(&self) -> Vec<f32> {
        (0..self.size * self.size)
            .map(|i| if self.radar_gap[i] { f32::NAN } else { 30.0 + 15.0 * (i % self.size) as f32 / self.size as f32 })
            .collect()
    }
}

fn spectrum(class: u8) -> &'static [f32; 13] {
    &SPECTRA.iter().find(|s| s.0 == class).unwrap_or(&SPECTRA[5]).1
}

/// Classes that only appear where they dominate (no glacier patches in a rainforest).
const RARE: [u8; 4] = [70, 80, 95, 100];

/// Classes by quantiles of a smooth field: water in the lowest 8 %, the dominant class over half
/// of the rest, and three common classes sharing what remains.
fn classify(shape: &[f32], dominant: u8, rng: &mut Rng) -> Vec<u8> {
    let mut others: Vec<u8> = SPECTRA.iter().map(|s| s.0).filter(|c| *c != dominant && !RARE.contains(c)).collect();
    let mut order = vec![80, dominant];
    for _ in 0..3 {
        order.push(others.remove(rng.below(others.len())));
    }
    let mut shares = vec![0.08, 0.46];
    let rest: Vec<f64> = (0..3).map(|_| 0.2 + rng.uniform()).collect();
    let total: f64 = rest.iter().sum();
    shares.extend(rest.iter().map(|r| 0.46 * r / total));
    let mut bounds = Vec::new();
    let mut cumulative = 0.0;
    for share in &shares {
        cumulative += share;
        bounds.push(quantile(shape, cumulative));
    }
    shape.iter().map(|v| order[bounds.iter().position(|b| v <= b).unwrap_or(order.len() - 1)]).collect()
}

/// Cloud probability: blobs over `cover` of the scene reach 45..100 %, clear sky stays under 25 %.
fn clouds(size: usize, cover: f64, rng: &mut Rng) -> Vec<f32> {
    let field = fractal_noise(size, (size / 6).max(4), 3, rng);
    let threshold = if cover <= 0.0 { f32::INFINITY } else { quantile(&field, 1.0 - cover) };
    field
        .iter()
        .map(|v| if *v > threshold { 45.0 + 55.0 * ((v - threshold) / 0.15).min(1.0) } else { 25.0 * v.powi(3) })
        .collect()
}

/// A no-data triangle cut off one corner: the edge of a satellite swath.
fn corner_cut(size: usize, depth: f32, from_right: bool) -> Vec<bool> {
    let limit = depth * size as f32;
    (0..size * size)
        .map(|i| {
            let (x, y) = ((i % size) as f32, (i / size) as f32);
            let x = if from_right { size as f32 - 1.0 - x } else { x };
            x + y * 0.5 < limit
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vegetation_is_green_water_is_dark_and_clouds_cover_what_was_asked() {
        let profile = Profile { dominant: 40, cloud_cover: 0.2, base_height: 300.0, relief: 500.0, swath_edges: true };
        let land = Landscape::generate(128, &profile, &mut Rng::new(1));
        let mut rng = Rng::new(2);
        let (red, nir) = (land.reflectance(3, &mut rng), land.reflectance(7, &mut rng));
        let ndvi = |i: usize| (f32::from(nir[i]) - f32::from(red[i])) / (f32::from(nir[i]) + f32::from(red[i]));
        let clear = |i: &usize| land.cloud[*i] < 20.0 && !land.optical_gap[*i];
        let crop: Vec<f32> =
            (0..land.classes.len()).filter(clear).filter(|i| land.classes[*i] == 40).map(ndvi).collect();
        let water: Vec<f32> =
            (0..land.classes.len()).filter(clear).filter(|i| land.classes[*i] == 80).map(ndvi).collect();
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean(&crop) > 0.5 && mean(&crop) < 0.9, "{}", mean(&crop));
        assert!(mean(&water) < 0.0, "{}", mean(&water));
        let cloudy = land.cloud.iter().filter(|c| **c > 40.0).count() as f64 / land.cloud.len() as f64;
        assert!((cloudy - 0.2).abs() < 0.05, "{cloudy}");
        assert!(land.optical_gap.iter().any(|g| *g) && red.contains(&0));
    }
}
