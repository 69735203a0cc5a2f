//! The criterion settings every bench of this crate uses.

use std::time::Duration;

use criterion::Criterion;

/// Half a second of warm-up, then `measurement` per benchmark: enough for stable medians
/// on these short loops while `cargo xtask bench` stays within minutes.
pub(crate) fn config(measurement: Duration) -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measurement)
}
