//! The per-pixel rules for S2 data shared by the catalog and the SQL functions, so that
//! `s12_index_mean(scene, 'ndvi')` equals the catalog's `ndvi_mean`: a pixel is valid where its
//! bands have data (all reflectance bands for the valid and cloud fractions, the index's own
//! inputs for an index mean) and cloudy where cloud_probability > the threshold.

use super::error::{RasterError, Result};
use super::indices::normalized_difference;
use super::stats::{is_nodata, Sample};
use gdal::Dataset;

/// Validity and cloud rules over the bands of one read (indices into the strips).
#[derive(Debug, Clone)]
pub struct OpticalMask {
    /// (strip index, nodata tag) of every reflectance band: a pixel is valid when none is nodata.
    pub reflectance: Vec<(usize, Option<f64>)>,
    /// (strip index, nodata tag) of cloud_probability, if the data has one.
    pub cloud: Option<(usize, Option<f64>)>,
    /// Cloudy when cloud_probability > threshold (percent).
    pub threshold: f64,
}

/// What a pixel is under an [`OpticalMask`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelClass {
    /// A reflectance band has no data.
    Invalid,
    /// Valid, and cloud_probability is over the threshold.
    Cloudy,
    /// Valid and not cloudy.
    Clear,
}

impl OpticalMask {
    /// The same rule over fewer reflectance bands (strip indices): an index is valid where its
    /// own input bands have data.
    pub fn restricted_to(&self, slots: &[usize]) -> OpticalMask {
        let reflectance = self.reflectance.iter().filter(|(slot, _)| slots.contains(slot)).copied().collect();
        OpticalMask { reflectance, cloud: self.cloud, threshold: self.threshold }
    }

    /// The class of each of the first `pixels` pixels of a read whose bands are `strips`, into
    /// `classes`: band after band, so that each pass reads one band's values in order (a pixel at
    /// a time would jump between the bands' buffers for every value).
    /// The strips may hold the file's own sample type, which costs less than writing them out
    /// as f64 first.
    pub fn classify_strip<T: Sample>(&self, strips: &[Vec<T>], pixels: usize, classes: &mut Vec<PixelClass>) {
        classes.clear();
        classes.resize(pixels, PixelClass::Clear);
        // Selects rather than branches, and each tag compared in the strips' own type: the
        // compiler then vectorizes the loops (12 bands of every pixel of every S2 file).
        for &(band, tag) in &self.reflectance {
            let nodata = T::nodata_test(tag);
            for (class, &value) in classes.iter_mut().zip(&strips[band][..pixels]) {
                *class = if nodata(value) { PixelClass::Invalid } else { *class };
            }
        }
        if let Some((band, tag)) = self.cloud {
            let nodata = T::nodata_test(tag);
            for (class, &value) in classes.iter_mut().zip(&strips[band][..pixels]) {
                let cloudy = (*class == PixelClass::Clear) & !nodata(value) & (value.into() > self.threshold);
                *class = if cloudy { PixelClass::Cloudy } else { *class };
            }
        }
    }

    /// The class of pixel `i` of a read whose bands are `strips`.
    pub fn classify(&self, strips: &[Vec<f64>], i: usize) -> PixelClass {
        if self.reflectance.iter().any(|&(b, tag)| is_nodata(strips[b][i], tag)) {
            return PixelClass::Invalid;
        }
        match self.cloud {
            Some((c, tag)) if !is_nodata(strips[c][i], tag) && strips[c][i] > self.threshold => PixelClass::Cloudy,
            _ => PixelClass::Clear,
        }
    }
}

/// Counts of a read under a mask, and the mean of an index over its clear pixels.
#[derive(Debug, Default, Clone)]
pub struct OpticalCounts {
    /// Pixels seen.
    pub pixels: u64,
    /// Pixels where every reflectance band has data.
    pub valid: u64,
    /// Valid pixels under cloud.
    pub cloudy: u64,
    /// Sum of the index over its clear pixels.
    pub index_sum: f64,
    /// Clear pixels with a finite index.
    pub index_count: u64,
    /// The last strip's pixels: their classes under the mask and under the index's mask, and
    /// their index values. Kept from one strip to the next (an ingest classifies every pixel of
    /// every S2 file).
    classes: Vec<PixelClass>,
    index_classes: Vec<PixelClass>,
    index_values: Vec<f64>,
}

/// One strip of an S2 read as [`OpticalCounts`] finds it: each pixel's class under the catalog's
/// mask, and its index where the index's own mask finds it clear (NaN elsewhere).
pub type OpticalStrip<'a> = (&'a [PixelClass], &'a [f64]);

impl OpticalCounts {
    /// Valid and cloudy pixels follow `mask`; the index, `index(strips, i)`, is averaged over the
    /// pixels `index_mask` finds clear (its input bands have data, no cloud). NaN or infinite
    /// values (a zero denominator) are left out.
    pub fn add_strip<T: Sample>(
        &mut self,
        mask: &OpticalMask,
        index_mask: &OpticalMask,
        strips: &[Vec<T>],
        pixels: usize,
        index: impl Fn(&[Vec<T>], usize) -> f64,
    ) {
        self.pixels += pixels as u64;
        mask.classify_strip(strips, pixels, &mut self.classes);
        index_mask.classify_strip(strips, pixels, &mut self.index_classes);
        let (valid, cloudy) = valid_and_cloudy(&self.classes);
        self.valid += valid;
        self.cloudy += cloudy;
        // Only clear pixels' index is computed (an index may be costly, a window mostly cloud).
        let value =
            |(i, class): (usize, &PixelClass)| if *class == PixelClass::Clear { index(strips, i) } else { f64::NAN };
        self.index_values.clear();
        self.index_values.extend(self.index_classes.iter().enumerate().map(value));
        let (sum, count) = add_finite(self.index_sum, &self.index_values);
        self.index_sum = sum;
        self.index_count += count;
    }

    /// The last strip's classes and index values, for the patch grid's counts.
    pub fn strip(&self) -> OpticalStrip<'_> {
        (&self.classes, &self.index_values)
    }

    /// Valid pixels over all pixels; None for an empty read.
    pub fn valid_fraction(&self) -> Option<f64> {
        (self.pixels > 0).then(|| self.valid as f64 / self.pixels as f64)
    }

    /// Cloudy pixels over valid pixels; None when none is valid.
    pub fn cloud_fraction(&self) -> Option<f64> {
        (self.valid > 0).then(|| self.cloudy as f64 / self.valid as f64)
    }

    /// The mean index over clear pixels; None when there is none.
    pub fn index_mean(&self) -> Option<f64> {
        (self.index_count > 0).then(|| self.index_sum / self.index_count as f64)
    }
}

/// `sum` plus the finite ones of `values`, added in their order, and how many those are: the
/// index sums of a scene and of each patch, so that both add the same values the same way. Adding
/// 0.0 for the others leaves the sum as it was (it is never -0.0: it starts at +0.0) and needs no
/// branch, which a strip's mix of clear and cloudy pixels would mispredict. The sum stays in a
/// local: kept in memory, each addition would wait on the store of the one before.
pub fn add_finite(mut sum: f64, values: &[f64]) -> (f64, u64) {
    let mut count = 0u64;
    for &value in values {
        let kept = value.is_finite();
        sum += if kept { value } else { 0.0 };
        count += u64::from(kept);
    }
    (sum, count)
}

/// NDVI at a pixel of an S2 read whose `nir` and `red` bands are strips `nir` and `red`.
pub fn ndvi_at<T: Sample>(nir: usize, red: usize) -> impl Fn(&[Vec<T>], usize) -> f64 {
    move |strips, i| normalized_difference(strips[nir][i].into(), strips[red][i].into())
}

/// The valid pixels of `classes`, and the cloudy ones among them. Counted without branches, in
/// locals: the classes of a strip follow no pattern a predictor learns.
pub fn valid_and_cloudy(classes: &[PixelClass]) -> (u64, u64) {
    let (mut valid, mut cloudy) = (0u64, 0u64);
    for class in classes {
        valid += u64::from(*class != PixelClass::Invalid);
        cloudy += u64::from(*class == PixelClass::Cloudy);
    }
    (valid, cloudy)
}

/// The nodata tag of each of `bands` (1-based).
pub fn nodata_tags(dataset: &Dataset, bands: &[usize]) -> Result<Vec<Option<f64>>> {
    bands
        .iter()
        .map(|&b| dataset.rasterband(b).map(|r| r.no_data_value()).map_err(|e| RasterError::no_band(b, e)))
        .collect()
}

/// The band that says where clouds are (SEN12TP's S2 has it; SEN12MS has none).
pub const CLOUD_BAND: &str = "cloud_probability";

/// 1-based number of the cloud band among `band_names`; None: nobody measured the clouds.
pub fn cloud_band(band_names: &[String]) -> Option<usize> {
    band_names.iter().position(|n| n == CLOUD_BAND).map(|i| i + 1)
}

/// The catalog's validity and cloud rule over a read of `read` (1-based bands of a file whose
/// bands are `band_names`): cloud_probability is the cloud band, every other band must have data.
pub fn mask_of(dataset: &Dataset, band_names: &[String], read: &[usize], threshold: f64) -> Result<OpticalMask> {
    let tags = nodata_tags(dataset, read)?;
    let is_cloud = |band: usize| band_names[band - 1] == CLOUD_BAND;
    let slots = || read.iter().enumerate().map(|(slot, &band)| (slot, band));
    Ok(OpticalMask {
        reflectance: slots().filter(|&(_, b)| !is_cloud(b)).map(|(slot, _)| (slot, tags[slot])).collect(),
        cloud: slots().find(|&(_, b)| is_cloud(b)).map(|(slot, _)| (slot, tags[slot])),
        threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strip_is_classified_as_each_of_its_pixels() {
        // Two reflectance bands (tag 0, and NaN only), a cloud band (tag 255, threshold 40).
        let strips = vec![
            vec![0.0, 5.0, 5.0, 5.0, 5.0, 5.0, 7.0],
            vec![1.0, f64::NAN, 2.0, 2.0, 2.0, 2.0, 9.0],
            vec![0.0, 0.0, 41.0, 40.0, 255.0, 90.0, 10.0],
        ];
        let mask = OpticalMask {
            reflectance: vec![(0, Some(0.0)), (1, None)],
            cloud: Some((2, Some(255.0))),
            threshold: 40.0,
        };
        let mut classes = Vec::new();
        mask.classify_strip(&strips, 6, &mut classes);
        use PixelClass::*;
        assert_eq!(classes, [Invalid, Invalid, Cloudy, Clear, Clear, Cloudy]);
        assert_eq!(classes, (0..6).map(|i| mask.classify(&strips, i)).collect::<Vec<_>>());
    }

    #[test]
    fn only_finite_values_are_added_and_counted() {
        let values = [0.25, f64::NAN, f64::INFINITY, -0.75, f64::NEG_INFINITY, 0.125];
        // By hand: 0.25 - 0.75 + 0.125, three values.
        assert_eq!(add_finite(0.0, &values), (-0.375, 3));
        assert_eq!(add_finite(1.0, &values[3..]), (0.375, 2));
        // A -0.0 value leaves a +0.0 sum as +0.0, as leaving it out would.
        let (sum, count) = add_finite(0.0, &[-0.0, f64::NAN]);
        assert!(sum == 0.0 && sum.is_sign_positive() && count == 1);
    }
}
