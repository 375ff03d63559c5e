//! The `chorus` command line: parsing, dispatch and the output and exit-code rules.
//!
//! Every command prints compact JSON objects, one per line, on standard output (`verify`
//! prints the word `valid` or `invalid`). Failures print exactly one line on standard
//! error, starting with `error: `. Exit codes: [`EXIT_SUCCESS`], [`EXIT_INVALID`] (only
//! `verify`), [`EXIT_BAD_INPUT`] for anything the program refuses, [`EXIT_FAILURE`] when
//! output cannot be written. A reader that closes standard output early (`| head -1`)
//! ends the program quietly.

use std::ffi::OsString;
use std::io::{self, BufWriter, Write};

use clap::error::ErrorKind;
use clap::{ColorChoice, Parser, Subcommand};
use serde::Serialize;

mod demo;
mod demo_flow;
mod demo_print;
mod demo_transports;
mod demo_wallet;
mod elect;
mod error;
mod event_json;
mod keyagg;
mod keygen;
mod node;
mod node_settings;
mod parse;
mod policy;
mod sign;
mod sim;
mod verify;

pub use error::{CliError, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INVALID, EXIT_SUCCESS};

/// The parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "chorus",
    version,
    about = "MuSig2 keys, key aggregation, coordinator election, signing and verification",
    color = ColorChoice::Never,
    arg_required_else_help = false
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Generate key pairs from OS randomness: {"secret","public"} per line.
    Keygen(keygen::KeygenArgs),
    /// Aggregate public keys into a MuSig2 aggregate key.
    Keyagg(keyagg::KeyaggArgs),
    /// Elect the coordinator of a signer set.
    Elect(elect::ElectArgs),
    /// Run a complete n-party MuSig2 signing session locally, one protocol node per signer.
    Sign(sign::SignArgs),
    /// Verify a Schnorr signature; prints `valid` (exit 0) or `invalid` (exit 1).
    Verify(verify::VerifyArgs),
    /// Run the deterministic simulator: one seed, or a sweep over many.
    Sim(sim::SimArgs),
    /// Start N local signers and run the whole flow: advertise, discover, request, join,
    /// sign, elect, broadcast (with optional silent coordinators) and confirm.
    Demo(demo::DemoArgs),
    /// Run one long-lived signer: advertise, join the requests a policy allows, sign, and
    /// print every event as a JSON line until Ctrl-C.
    Node(node::NodeArgs),
}

/// Runs the command line with the process's standard output and error; returns the exit code.
///
/// `args` starts with the program name, as [`std::env::args_os`] does.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut out = BufWriter::new(io::stdout().lock());
    // Not locked for the whole run: the drivers' log lines (RUST_LOG) go there from other threads.
    let mut err = io::stderr();
    run_with(args, &mut out, &mut err)
}

/// Runs the command line writing to the given streams; returns the exit code.
///
/// Never panics and always flushes `out` before returning.
///
/// ```
/// use chorus_node::cli::{run_with, EXIT_BAD_INPUT};
///
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let code = run_with(["chorus", "keygen", "--count", "0"].map(Into::into), &mut out, &mut err);
/// assert_eq!(code, EXIT_BAD_INPUT);
/// assert!(out.is_empty());
/// assert_eq!(String::from_utf8(err).unwrap().lines().count(), 1);
/// ```
pub fn run_with(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let command = match Cli::try_parse_from(args) {
        Ok(cli) => cli.command,
        Err(error) => return report_clap_error(&error, out, err),
    };
    let result = execute(command, out).and_then(|code| match out.flush() {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(code),
    });
    match result {
        Ok(code) => code,
        Err(error) if error.is_broken_pipe() => EXIT_SUCCESS,
        Err(error) => {
            report_error(&error.to_string(), err);
            error.exit_code()
        }
    }
}

fn execute(command: Command, out: &mut dyn Write) -> Result<i32, CliError> {
    match command {
        Command::Keygen(args) => keygen::run(&args, out),
        Command::Keyagg(args) => keyagg::run(&args, out),
        Command::Elect(args) => elect::run(&args, out),
        Command::Sign(args) => sign::run(&args, out),
        Command::Verify(args) => verify::run(&args, out),
        Command::Sim(args) => sim::run(&args, out),
        Command::Demo(args) => {
            init_logging();
            demo::run(&args, out)
        }
        Command::Node(args) => {
            init_logging();
            node::run(&args, out)
        }
    }
}

/// Prints help and version on standard output (exit 0); every other clap error as one
/// line on standard error (exit 2), since clap's own rendering spans several lines.
fn report_clap_error(error: &clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if !error.use_stderr() {
        let written = write!(out, "{}", error.render()).and_then(|()| out.flush());
        return match written {
            Err(failure) if failure.kind() != io::ErrorKind::BrokenPipe => {
                report_error(&CliError::Output(failure).to_string(), err);
                EXIT_FAILURE
            }
            _ => EXIT_SUCCESS,
        };
    }
    let message = match error.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "a subcommand is required (keygen, keyagg, elect, sign, verify, sim, demo, node); see --help".to_owned()
        }
        _ => first_paragraph_of(&error.render().to_string()),
    };
    report_error(&message, err);
    EXIT_BAD_INPUT
}

/// The first paragraph of a clap error on one line, without its `error: ` prefix.
///
/// The paragraph can span lines: a list of missing arguments follows its heading.
fn first_paragraph_of(rendered: &str) -> String {
    let paragraph: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty())
        .take_while(|line| !line.is_empty())
        .collect();
    let joined = paragraph.join(" ");
    let message = joined.strip_prefix("error:").unwrap_or(&joined).trim();
    if message.is_empty() {
        "invalid command line".to_owned()
    } else {
        message.to_owned()
    }
}

/// Writes `error: <message>` as exactly one line; a failing standard error is ignored
/// because there is nowhere left to report it.
fn report_error(message: &str, err: &mut dyn Write) {
    let single_line = message.replace(['\n', '\r'], " ");
    let _ = writeln!(err, "error: {single_line}").and_then(|()| err.flush());
}

/// Sends the drivers' logs to standard error when `RUST_LOG` asks for them (for instance
/// `RUST_LOG=chorus_node=debug`); without it nothing is logged, so standard error keeps
/// to the one-line-per-failure rule.
fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        // A subscriber installed already (by an embedding program) wins.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(io::stderr)
            .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
            .try_init();
    }
}

/// Writes `value` as one compact JSON object on its own line.
fn write_json_line<T: Serialize>(out: &mut dyn Write, value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string(value)
        .map_err(|error| CliError::Internal(format!("JSON encoding: {error}")))?;
    writeln!(out, "{text}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_capture(args: &[&str]) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let args = std::iter::once("chorus")
            .chain(args.iter().copied())
            .map(OsString::from);
        let code = run_with(args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn the_command_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn clap_errors_become_one_line() {
        for args in [
            &[][..],
            &["frobnicate"][..],
            &["keygen", "--bogus"][..],
            &["keygen", "--count"][..],
            &["keygen", "--count", "1", "--count", "2"][..],
            &["verify", "--dialect", "bip340"][..],
        ] {
            let (code, out, err) = run_capture(args);
            assert_eq!(code, EXIT_BAD_INPUT, "{args:?}");
            assert!(out.is_empty(), "{args:?}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.starts_with("error: "), "{args:?}: {err}");
            assert!(!err.starts_with("error: error"), "{args:?}: {err}");
        }
    }

    #[test]
    fn help_and_version_go_to_stdout() {
        for args in [
            &["--help"][..],
            &["keygen", "--help"][..],
            &["--version"][..],
        ] {
            let (code, out, err) = run_capture(args);
            assert_eq!(code, EXIT_SUCCESS, "{args:?}");
            assert!(!out.is_empty() && err.is_empty(), "{args:?}");
        }
    }

    #[test]
    fn first_paragraph_is_one_line_without_the_prefix() {
        assert_eq!(
            first_paragraph_of("error: bad thing\n\nUsage: x\n"),
            "bad thing"
        );
        assert_eq!(
            first_paragraph_of("error: missing:\n  --a <A>\n  --b <B>\n\nUsage: x\n"),
            "missing: --a <A> --b <B>"
        );
        assert_eq!(first_paragraph_of("\n"), "invalid command line");
    }
}
