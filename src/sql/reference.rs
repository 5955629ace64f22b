//! `docs/sql.md`'s index and function entries, written from [`FUNCTIONS`](super::FUNCTIONS): each
//! entry is the file `functions/{name}.md` beside the function's code, in the table's order, under
//! its name. `make docs` writes them into `docs/sql.md` between [`BEGIN`] and [`END`];
//! `tests/register.rs` fails when the file holds anything else there.

use super::runtime::registry::{Access, SqlFunction};
use std::fmt::Write;

/// The line before the written part of `docs/sql.md`.
pub const BEGIN: &str =
    "<!-- The index and the entries below are written from src/sql/functions/*.md by `make docs`: edit those. -->";
/// The line after it.
pub const END: &str = "<!-- End of the written entries. -->";

/// The index (name, signature, what it reads) and every entry, as markdown.
pub fn reference(functions: &[SqlFunction]) -> String {
    let mut text = String::from("## Index\n\n| function | signature | reads |\n|---|---|---|\n");
    for function in functions {
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "| [{name}](#{name}) | {} | {} |",
            signature(function).replace('|', "\\|"),
            reads(function.access),
            name = function.name,
        );
    }
    for function in functions {
        let _ = write!(text, "\n## {}\n\n{}", function.name, function.doc);
    }
    text
}

/// The first line of an entry: its signature.
fn signature(function: &SqlFunction) -> &str {
    function.doc.lines().next().unwrap_or_default()
}

/// What a function of this access reads, as the index says it.
fn reads(access: Access) -> &'static str {
    match access {
        Access::Pure => "nothing (pure)",
        Access::ReadsCatalog => "the catalog",
        Access::ReadsFiles => "files",
    }
}
