//! What only the command line needs: progress output and the demo.

pub mod demo;
pub mod progress;
