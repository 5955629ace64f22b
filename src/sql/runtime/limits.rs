//! What one call may ask for: checked before anything is read or allocated. An operator lowers a
//! limit with its environment variable, read when the functions are registered (the extension is
//! loaded); nothing in SQL can raise one, and a variable cannot raise one either.

use super::error::Exceeded;
use std::fmt;

/// One bound and the variable that lowers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub value: u64,
    pub variable: &'static str,
}

impl Limit {
    /// Ok when `amount` is within the limit; else the message `describe(limit)` gives, naming the
    /// variable.
    pub fn check(&self, amount: u64, describe: impl FnOnce(u64) -> String) -> Result<(), Exceeded> {
        if amount <= self.value {
            return Ok(());
        }
        Err(Exceeded { what: describe(self.value), variable: self.variable })
    }
}

/// Every limit of the `s12_` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Values (pixels x bands) of one `s12_window` / `s12_index` result or patch row.
    pub window_values: Limit,
    /// Rows of one `s12_pixels` call.
    pub pixel_rows: Limit,
    /// Pixels of one `s12_png` quicklook.
    pub png_pixels: Limit,
    /// Patches of one `s12_patches` call.
    pub patches: Limit,
    /// Values the `s12_` calls of one statement read from files, all reads together.
    pub read_values: Limit,
    /// Milliseconds from the first `s12_` call of a statement after which its calls stop. Hosts
    /// whose time limit is a progress handler (Datasette) cannot stop a running function: this can.
    pub statement_ms: Limit,
}

const BUILT_IN: Limits = Limits {
    window_values: Limit { value: 64 << 20, variable: "SEN12LITE_MAX_WINDOW_VALUES" },
    pixel_rows: Limit { value: 1 << 22, variable: "SEN12LITE_MAX_PIXEL_ROWS" },
    png_pixels: Limit { value: 1 << 22, variable: "SEN12LITE_MAX_PNG_PIXELS" },
    patches: Limit { value: 1 << 20, variable: "SEN12LITE_MAX_PATCHES" },
    read_values: Limit { value: 1 << 32, variable: "SEN12LITE_MAX_READ_VALUES" },
    statement_ms: Limit { value: u64::MAX, variable: "SEN12LITE_MAX_STATEMENT_MS" },
};

impl Limits {
    /// The limits built in, as an operator finds them without any variable set.
    pub fn built_in() -> Limits {
        BUILT_IN
    }

    /// The built-in limits, each lowered by its variable where the environment sets one; a value
    /// that is not a positive integer, or above the built-in limit, is an error.
    pub fn from_env() -> Result<Limits, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Limits, String> {
        let mut limits = BUILT_IN;
        for limit in limits.all_mut() {
            let Some(text) = lookup(limit.variable).filter(|t| !t.is_empty()) else { continue };
            let value = text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("{}={text:?} is not a positive integer", limit.variable))?;
            if value > limit.value && limit.value != u64::MAX {
                return Err(format!(
                    "{}={value} is above the built-in limit of {}: the variable can only lower it",
                    limit.variable, limit.value
                ));
            }
            limit.value = value;
        }
        Ok(limits)
    }

    fn all_mut(&mut self) -> [&mut Limit; 6] {
        [
            &mut self.window_values,
            &mut self.pixel_rows,
            &mut self.png_pixels,
            &mut self.patches,
            &mut self.read_values,
            &mut self.statement_ms,
        ]
    }
}

impl fmt::Display for Limits {
    /// One `VARIABLE=value` a line, for `s12_debug()`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut copy = *self;
        for limit in copy.all_mut() {
            match limit.value {
                u64::MAX => writeln!(f, "{}=unlimited", limit.variable)?,
                value => writeln!(f, "{}={value}", limit.variable)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Limits, String> {
        Limits::from_lookup(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn variables_lower_limits_and_nothing_else() {
        assert_eq!(with(&[]).unwrap(), Limits::built_in());
        let lowered = with(&[("SEN12LITE_MAX_PNG_PIXELS", "10000"), ("SEN12LITE_MAX_PATCHES", "")]).unwrap();
        assert_eq!(lowered.png_pixels.value, 10_000);
        assert_eq!(lowered.patches, Limits::built_in().patches);
        assert_eq!(with(&[("SEN12LITE_MAX_STATEMENT_MS", "1000")]).unwrap().statement_ms.value, 1000);
        let above = with(&[("SEN12LITE_MAX_PIXEL_ROWS", "99999999")]).unwrap_err();
        assert_eq!(
            above,
            "SEN12LITE_MAX_PIXEL_ROWS=99999999 is above the built-in limit of 4194304: the variable can only lower it"
        );
        for bad in ["0", "-5", "1e6", "lots"] {
            let error = with(&[("SEN12LITE_MAX_READ_VALUES", bad)]).unwrap_err();
            assert_eq!(error, format!("SEN12LITE_MAX_READ_VALUES={bad:?} is not a positive integer"));
        }
    }

    #[test]
    fn a_refusal_names_the_variable() {
        let limit = Limits::built_in().png_pixels;
        assert!(limit.check(1 << 22, |_| unreachable!()).is_ok());
        let error = limit.check((1 << 22) + 1, |max| format!("too big, over {max} px")).unwrap_err();
        assert_eq!(error.variable, "SEN12LITE_MAX_PNG_PIXELS");
        assert_eq!(error.to_string(), "too big, over 4194304 px (SEN12LITE_MAX_PNG_PIXELS)");
    }
}
