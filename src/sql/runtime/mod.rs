//! The machinery every SQL function shares, and nothing of any one function: reading arguments,
//! resolving a scene to its file, limits and the statement's budget, interrupts, the connection's
//! session (open datasets), and the shapes SQLite calls (blob results, aggregates, table functions).

pub mod aggregate;
pub mod arguments;
pub mod blob_result;
pub mod error;
pub mod interrupt;
pub mod limits;
pub mod loan;
pub mod measures;
pub mod registry;
pub mod resolve;
pub mod session;
pub mod sqlite_blob;
pub mod statements;
pub mod table;
pub mod values;
pub mod windows;
