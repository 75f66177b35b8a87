//! `typed-id`: see `typed-id --help`.

fn main() -> std::process::ExitCode {
    typed_id_cli::run()
}
