//! What a call of an `s12_` function can fail on below its argument checks, as values: the raster
//! layer's errors, a limit, or a request the data cannot answer. [`super::arguments::fail`] is the
//! one place any of them becomes SQL error text (`s12_x: message`).

use crate::raster::RasterError;

/// An error of one call of an SQL function.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// Reading the raster failed or was stopped.
    #[error(transparent)]
    Raster(#[from] RasterError),
    /// The call asks for more than an operator's limit allows.
    #[error(transparent)]
    Limit(#[from] Exceeded),
    /// The request does not fit the raster (a window outside it, a size that is not positive).
    #[error("{0}")]
    Invalid(String),
}

/// A limit passed: what was asked and the variable that sets the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} ({variable})")]
pub struct Exceeded {
    /// What was asked, and the limit.
    pub what: String,
    /// The environment variable that lowers the limit.
    pub variable: &'static str,
}

impl From<Exceeded> for RasterError {
    /// A limit reached in the middle of a read stops the read.
    fn from(exceeded: Exceeded) -> RasterError {
        RasterError::Stopped(exceeded.to_string())
    }
}

/// A result of a call.
pub type CallResult<T> = Result<T, CallError>;
