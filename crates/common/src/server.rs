//! A TCP server that gives each client its own thread.
//!
//! This is the accept loop of lessons 1 and 2: blocking sockets, one thread
//! per connection, so that a `recv` waiting for one client never holds up
//! another. A sleeping thread costs little — its stack is address space, and
//! only the few pages it touches are memory — so one process holds many
//! thousands of idle clients.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context;

use crate::{say, say_error};

/// Stack for each client thread: a recv/send loop needs very little, and a
/// small stack lets one process hold many thousands of clients.
pub const CLIENT_STACK: usize = 256 * 1024;

/// How the accept loop behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptOptions {
    /// Exit the process with status 0 once this many clients have
    /// disconnected (for scripts and tests: `--max-clients N`).
    pub max_clients: Option<u64>,
    /// Log `connected PEER` for each accepted client.
    pub log_connected: bool,
}

/// Open a server's listening socket and announce it: raise the open-file
/// limit (every client is a descriptor), socket + bind + listen on `bind`,
/// then print `listening on ADDR` with the address really bound.
pub fn listen_and_announce(bind: SocketAddr) -> anyhow::Result<TcpListener> {
    let _ = crate::net::raise_fd_limit();
    let listener = crate::net::tcp_listen(bind)?;
    let local = listener
        .local_addr()
        .with_context(|| format!("getsockname {bind}"))?;
    crate::trace::listening("tcp", local);
    crate::announce_listening(local);
    Ok(listener)
}

/// [`listen_and_announce`], then make the listener non-blocking, for an
/// event loop (`tcp-echo --model poll` and `--model async`): returns it with
/// the address it is bound to.
pub fn listen_nonblocking(bind: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = listen_and_announce(bind)?;
    let local = listener
        .local_addr()
        .with_context(|| format!("getsockname {bind}"))?;
    listener
        .set_nonblocking(true)
        .with_context(|| format!("set non-blocking {local}"))?;
    Ok((listener, local))
}

/// Accept clients forever, running `serve(stream, peer)` for each on a thread
/// of its own. Never returns: the process ends by a signal, or with status 0
/// after `max_clients` disconnections.
///
/// Failures concern one client, never the server: a failed `accept` (the
/// client reset before we took it, or no descriptor left) is logged as an
/// `error:` line and the loop goes on.
pub fn serve_each_client<F>(listener: TcpListener, options: AcceptOptions, serve: F) -> !
where
    F: Fn(TcpStream, SocketAddr) + Send + Sync + 'static,
{
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "listener".to_string());
    let serve = Arc::new(serve);
    let disconnected = Arc::new(AtomicU64::new(0));
    loop {
        // region: accept
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                say_error!("accept {local}: {err}");
                if is_out_of_descriptors(&err) {
                    // The connection stays queued and accept would fail again
                    // at once; give closing clients a moment to free some.
                    thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
        };
        if options.log_connected {
            say!("connected {peer}");
        }
        // endregion: accept
        let serve = Arc::clone(&serve);
        let disconnected = Arc::clone(&disconnected);
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .stack_size(CLIENT_STACK)
            .spawn(move || {
                serve(stream, peer);
                let done = disconnected.fetch_add(1, Ordering::SeqCst) + 1;
                if options.max_clients.is_some_and(|max| done >= max) {
                    // Log lines are flushed as they are written: nothing is lost.
                    std::process::exit(0);
                }
            });
        if let Err(err) = spawned {
            // The stream went down with the closure that failed to start:
            // the client sees its connection close.
            say_error!("start a thread for {peer}: {err}");
        }
    }
}

/// EMFILE or ENFILE: this process, or the whole system, is out of
/// descriptors. An accept loop that sees it keeps the client waiting in the
/// backlog and tries again once some connections have closed.
pub fn is_out_of_descriptors(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}
