//! `cargo xtask bench`: run the criterion benches and print one summary table.

use crate::Result;

pub(crate) fn run(_args: &[String]) -> Result {
    Err("not written yet".into())
}
