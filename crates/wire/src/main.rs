//! wire — draw socket traces as a sequence diagram.
//!
//! ```text
//! cargo run -p sticky-demo -- server --read-delay 300 --trace /tmp/s.jsonl
//! cargo run -p sticky-demo -- client 127.0.0.1:9002 a b c d e --trace /tmp/c.jsonl
//! cargo run -p wire -- /tmp/s.jsonl /tmp/c.jsonl                 # text, in the terminal
//! cargo run -p wire -- /tmp/s.jsonl /tmp/c.jsonl --svg five.svg  # and a picture
//! ```

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use wire::{render, Diagram, Options, Trace};

#[derive(Parser)]
#[command(
    name = "wire",
    version,
    about = "Draw socket traces (--trace FILE) as a sequence diagram: one column per endpoint, one arrow per send to the recvs that took its bytes"
)]
struct Cli {
    /// Trace files written by the programs' --trace (one per process).
    #[arg(value_name = "TRACE", required = true)]
    traces: Vec<PathBuf>,
    /// Also write the diagram as SVG to this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Write the diagram's structure (events in order per column, without
    /// times or ports) to this file: what scripts/diagrams --check compares.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// The diagram's title [default: the trace files' names].
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    /// Draw at most this many rows; the middle of a longer trace is summarised.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u64).range(8..=100_000))]
    max_rows: u64,
    /// Print nothing on stdout (with --svg or --events).
    #[arg(long)]
    quiet: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    common::run_main(|| {
        let mut traces = Vec::new();
        for path in &cli.traces {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("read {}", path.display()))?;
            let trace =
                Trace::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            traces.push(trace);
        }
        let diagram = Diagram::build(
            &traces,
            Options {
                max_rows: cli.max_rows as usize,
            },
        );
        let title = cli.title.clone().unwrap_or_else(|| {
            cli.traces
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" + ")
        });
        if let Some(path) = &cli.svg {
            std::fs::write(path, render::svg(&diagram, &title))
                .with_context(|| format!("write {}", path.display()))?;
        }
        if let Some(path) = &cli.events {
            std::fs::write(path, diagram.structure())
                .with_context(|| format!("write {}", path.display()))?;
        }
        if !cli.quiet {
            common::say!("{}", render::text(&diagram).trim_end());
        }
        Ok(())
    })
}
