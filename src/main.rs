use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The completion scripts call `NSVIEW_COMPLETE=SHELL nsview -- WORDS...`: answered here, then exit.
    nsview::cli::complete_from_env();
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = nsview::cli::Cli::parse();
    match nsview::cli::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (nsview ps | head) is not an error worth a message.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            // Messages quote names the system chose (hostnames, cgroup paths): escaped, so that
            // none can act on the terminal; newlines of multi-line messages stay.
            let message = format!("{e:#}");
            eprintln!(
                "nsview: {}",
                nsview::model::format::printable_lines(&message)
            );
            ExitCode::FAILURE
        }
    }
}
