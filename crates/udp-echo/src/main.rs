//! Not written yet: see the open issue for this program.
fn main() -> std::process::ExitCode {
    eprintln!("error: this program is not written yet");
    std::process::ExitCode::from(1)
}
