//! The `chorus` command-line program.

fn main() {
    std::process::exit(chorus_node::cli::run(std::env::args_os()));
}
