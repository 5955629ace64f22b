//! What only the command line needs: progress output, the demo and the `sql` verb.

pub mod demo;
pub mod progress;
pub mod sql;
