//! mini-http — lesson 8, HTTP over TCP (tcp应用之http传输): a small but real
//! HTTP/1.1 server and client.
//!
//! ```text
//! cargo run -p mini-http                                  # the demo site on 127.0.0.1:8000
//! cargo run -p mini-http -- serve --root DIR              # serve your own files
//! cargo run -p mini-http -- get -v http://127.0.0.1:8000/echo?a=1
//! cargo run -p mini-http -- request POST http://127.0.0.1:8000/echo -d 'a=1&b=2'
//! ```
//!
//! The modules follow the notes' flow (网站访问流程): [`server`] is the web
//! server (connections, parsing via [`request`], limits, keep-alive), [`app`]
//! is the application behind it (routing, [`files`], /echo, auth), and
//! [`client`] is the browser's side.

mod app;
mod client;
mod demo;
mod files;
mod percent;
mod request;
mod response;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use common::UsageError;

#[derive(Parser)]
#[command(
    name = "mini-http",
    version,
    about = "Lesson 8: a small HTTP/1.1 server and client over TCP.",
    long_about = "Lesson 8: a small HTTP/1.1 server and client over TCP.\n\n\
                  With no subcommand, serves the built-in demo site on 127.0.0.1:8000."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Append one JSON line per socket event to FILE (README, "Traces";
    /// `cargo run -p wire -- FILE` draws it).
    #[arg(long, global = true, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP: the demo site, or the files under --root.
    Serve(ServeArgs),
    /// GET one or more URLs (same server: one keep-alive connection) and print the bodies.
    Get {
        /// http://HOST[:PORT]/PATH[?QUERY]
        #[arg(required = true)]
        urls: Vec<String>,
        #[command(flatten)]
        options: ClientOptions,
    },
    /// Send any method, with an optional body and extra headers.
    Request {
        /// GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, or anything else.
        method: String,
        /// http://HOST[:PORT]/PATH[?QUERY]
        #[arg(required = true)]
        urls: Vec<String>,
        /// Request body (sent as application/x-www-form-urlencoded unless -H says otherwise).
        #[arg(short = 'd', long = "data")]
        data: Option<String>,
        #[command(flatten)]
        options: ClientOptions,
    },
}

#[derive(Args)]
struct ClientOptions {
    /// Show the request bytes sent (`> `) and the response head received (`< `).
    #[arg(short, long)]
    verbose: bool,
    /// Extra header 'Name: value' (repeatable); 'Name:' removes a default one.
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Seconds to wait for the connection and for each read.
    #[arg(long, default_value = "30", value_parser = parse_seconds)]
    timeout: Duration,
    /// Send HTTP/1.0 instead of HTTP/1.1.
    #[arg(long = "http1.0")]
    http10: bool,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000", value_parser = common::parse_socket_addr)]
    bind: std::net::SocketAddr,
    /// Serve the files under DIR (default: the built-in demo site).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Protect /private/ with HTTP Basic authentication.
    #[arg(long, value_name = "USER:PASS")]
    auth: Option<String>,
    /// Let PUT and DELETE create, replace and remove files under --root.
    #[arg(long)]
    allow_write: bool,
    /// Connections open at once. When full, a newcomer takes the place of the longest-idle
    /// connection, else of the oldest unfinished request head; 503 only if all are mid-request.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Worker threads, each with its own event loop (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seconds a client may take to send a request head (or stall a body): else 408.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_seconds)]
    head_timeout: Duration,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, value_name = "SECS", default_value = "15", value_parser = parse_seconds)]
    idle_timeout: Duration,
    /// Longest request line in bytes: else 414.
    #[arg(long, default_value_t = 8192)]
    max_request_line: usize,
    /// Largest header section in bytes: else 431.
    #[arg(long, default_value_t = 16384)]
    max_header_bytes: usize,
    /// Most header fields: else 431.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=256))]
    max_headers: u16,
    /// Largest request body in bytes: else 413.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    max_body: u64,
    /// Do not print the access log (one line per request).
    #[arg(long)]
    no_access_log: bool,
}

/// `-H 'Name: value'` (or `'Name:'`, which removes a default header): a
/// token name, a colon, and no CR or LF anywhere — a CR/LF in a value would
/// end the field and start another one the user never wrote (header
/// injection). Anything else is a usage error, and nothing is sent.
fn check_header(header: &str) -> anyhow::Result<()> {
    let bad = |why: &str| -> anyhow::Result<()> {
        Err(UsageError(format!("-H {header:?}: {why}; expected 'Name: value'")).into())
    };
    if header.contains(['\r', '\n']) {
        return bad("a header cannot contain CR or LF");
    }
    let Some((name, value)) = header.split_once(':') else {
        return bad("no colon");
    };
    if name.is_empty() || !name.bytes().all(request::is_token) {
        return bad("the name must be a token (letters, digits, !#$%&'*+-.^_`|~)");
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return bad("a control character in the value");
    }
    Ok(())
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 86_400.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "'{text}' is not a number of seconds between 0 and 86400 (0.5 is fine)"
        )),
    }
}

fn main() -> ExitCode {
    common::run_main(|| {
        let cli = Cli::parse();
        common::trace::start("mini-http", cli.trace.as_deref())?;
        // No subcommand: exactly `mini-http serve` with every default.
        let command = match cli.command {
            Some(command) => command,
            None => Cli::parse_from(["mini-http", "serve"])
                .command
                .context("internal: default subcommand")?,
        };
        match command {
            Command::Serve(args) => serve(args),
            Command::Get { urls, options } => fetch("GET".into(), urls, None, options),
            Command::Request {
                method,
                urls,
                data,
                options,
            } => fetch(method, urls, data, options),
        }
    })
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.allow_write && args.root.is_none() {
        return Err(UsageError(
            "--allow-write needs --root DIR: there is nothing to write to".into(),
        )
        .into());
    }
    if let Some(auth) = &args.auth {
        if !auth.contains(':') {
            return Err(UsageError(format!("--auth {auth:?}: expected USER:PASS")).into());
        }
    }
    let files = match &args.root {
        Some(root) => Some(
            files::Files::new(root, args.allow_write)
                .with_context(|| format!("document root {}", root.display()))?,
        ),
        None => None,
    };
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let config = server::ServerConfig {
        bind: args.bind,
        threads,
        max_connections: args.max_connections as usize,
        limits: request::Limits {
            max_request_line: args.max_request_line,
            max_header_bytes: args.max_header_bytes,
            max_headers: usize::from(args.max_headers),
            max_body: args.max_body,
        },
        head_timeout: args.head_timeout,
        idle_timeout: args.idle_timeout,
        access_log: !args.no_access_log,
    };
    server::serve(config, app::App::new(files, args.auth))
}

fn fetch(
    method: String,
    urls: Vec<String>,
    data: Option<String>,
    options: ClientOptions,
) -> anyhow::Result<()> {
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UsageError(format!("method {method:?} must be one word such as GET")).into());
    }
    for header in &options.headers {
        check_header(header)?;
    }
    client::run(&client::ClientRequest {
        method,
        urls,
        data: data.map(String::into_bytes),
        headers: options.headers,
        verbose: options.verbose,
        timeout: options.timeout,
        http10: options.http10,
    })
}
