//! What only the command line needs: the progress line, the demo, the `sql` verb and the table
//! formatting they share.

pub mod demo;
pub mod progress;
pub mod sql;
pub mod table;
