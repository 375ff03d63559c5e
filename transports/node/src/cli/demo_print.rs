//! `chorus demo`'s progress lines: each stamped with the time since the demo started.

use std::fmt::Display;
use std::io::Write;

use tokio::time::Instant;

use super::CliError;

/// Writes progress lines, or nothing when the demo prints only its final JSON line.
pub(crate) struct Printer<'a> {
    out: &'a mut dyn Write,
    started: Instant,
    quiet: bool,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(out: &'a mut dyn Write, started: Instant, quiet: bool) -> Self {
        Printer {
            out,
            started,
            quiet,
        }
    }

    /// Writes `[  1.234s] text` and flushes, so progress shows as it happens.
    pub(crate) fn line(&mut self, text: impl Display) -> Result<(), CliError> {
        if self.quiet {
            return Ok(());
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        writeln!(self.out, "[{elapsed:>8.3}s] {text}")?;
        self.out.flush()?;
        Ok(())
    }
}
