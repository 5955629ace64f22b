//! The two datasets as they are on disk: names, bands, classes, seasons (docs/datasets.md).

pub mod season;
pub mod sen12ms;
pub mod sen12tp;
