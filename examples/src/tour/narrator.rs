//! The tour's console account: its narration and progress bars (silent unless verbose)
//! and the milliseconds each phase took.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Prints the tour's account when verbose.
pub(super) struct Narrator {
    pub(super) verbose: bool,
}

impl Narrator {
    pub(super) fn say(&self, text: impl AsRef<str>) {
        if self.verbose {
            println!("{}", text.as_ref());
        }
    }

    pub(super) fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let bar = ProgressBar::new(len);
        if self.verbose {
            bar.set_style(
                ProgressStyle::with_template("   {prefix:<22} [{bar:32}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(what.to_owned());
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar
    }
}

/// Milliseconds since `since`, for the tour's timings.
pub(super) fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
