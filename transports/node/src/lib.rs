//! The Chorus node driver and the `chorus` command-line program.

pub mod cli;
