//! The UDP echo client (notes section 4): create a datagram socket, send and
//! receive, close it.
//!
//! Each message is one `sendto` and so one datagram; the server's `recvfrom`
//! gets it whole or — if its buffer is too small — cut, but never merged with
//! the next one (compare lesson 2). What UDP does not promise is that the
//! datagram, or the reply, arrives at all: nothing is resent and nothing tells
//! the sender. So the client waits a bounded time for each reply and then
//! gives up with `error: timeout: …`.
//!
//! The socket is not connected, so anyone can send to it. The client takes a
//! datagram for the reply only if it comes from exactly ADDR (IP and port);
//! anything else is logged as `ignored` and the wait goes on, against the
//! same deadline.
//!
//! ```text
//! cargo run -p udp-echo -- server                              # terminal 1
//! cargo run -p udp-echo -- client 127.0.0.1:9003 one "two words"
//! printf 'a\nb\n' | cargo run -p udp-echo -- client 127.0.0.1:9003
//! cargo run -p udp-echo -- client 127.0.0.1:9003 --size 65508  # refused
//! ```

use std::io::{BufRead, ErrorKind, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use common::{say, UsageError};

use crate::datagram::{self, RecvBuf};
use crate::ClientArgs;

pub fn run(args: &ClientArgs) -> anyhow::Result<()> {
    let (limit, why) = datagram::max_payload(args.addr);
    let messages = checked_messages(args, limit, why)?;
    let mut client = Client::open(args)?;
    if let Some(size) = args.size {
        let data = datagram::filler(size as usize);
        client.send(&data)?;
        client.wait_for_reply(|reply, fit| {
            let sent = if reply.len() == data.len() {
                String::new()
            } else {
                format!(" of the {} sent", data.len())
            };
            format!("{} bytes{sent}{}", reply.len(), fit.note())
        })
    } else if !messages.is_empty() {
        for message in &messages {
            client.send(message)?;
            client.wait_for_reply(show_reply)?;
        }
        Ok(())
    } else {
        send_stdin_lines(&mut client, args.addr, limit, why)
    }
}

/// The MESSAGE arguments as bytes, once each (and --size) is known to fit in
/// one datagram to the server (`limit` bytes, for the reason `why`). Checked
/// before sending anything: the kernel would refuse it too (EMSGSIZE,
/// "Message too long"), but perhaps only after earlier messages had gone out.
fn checked_messages(args: &ClientArgs, limit: usize, why: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let addr = args.addr;
    if let Some(size) = args.size {
        if size > limit as u64 {
            return Err(UsageError(format!(
                "--size {size}: one UDP datagram to {addr} carries at most {limit} bytes ({why})"
            ))
            .into());
        }
    }
    let messages = args
        .messages
        .iter()
        .map(|m| argument_bytes(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for message in &messages {
        if message.len() > limit {
            return Err(UsageError(format!(
                "a MESSAGE of {} bytes cannot be one UDP datagram to {addr}: the most is {limit} bytes ({why})",
                message.len()
            ))
            .into());
        }
    }
    Ok(messages)
}

/// One datagram per line of stdin, sent as soon as the line is read, so the
/// client works interactively too. The line ending is not sent.
fn send_stdin_lines(
    client: &mut Client,
    addr: SocketAddr,
    limit: usize,
    why: &str,
) -> anyhow::Result<()> {
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    // Never read more of one line than could be sent (plus "\r\n"): a
    // huge input without newlines must not be slurped into memory.
    let most = limit as u64 + 2;
    for number in 1.. {
        line.clear();
        let got = (&mut stdin)
            .take(most)
            .read_until(b'\n', &mut line)
            .context("read stdin")?;
        if got == 0 {
            return Ok(());
        }
        let ended = line.last() == Some(&b'\n');
        if ended {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() > limit || (!ended && got as u64 == most) {
            bail!(
                "sendto {addr}: line {number} of stdin is longer than one UDP datagram can carry: at most {limit} bytes ({why})"
            );
        }
        client.send(&line)?;
        client.wait_for_reply(show_reply)?;
    }
    Ok(())
}

/// The bytes of a command-line argument. On Unix, `execve` hands a program
/// its arguments as NUL-terminated byte strings: any bytes but NUL, UTF-8 or
/// not, and they are sent exactly as given.
#[cfg(unix)]
fn argument_bytes(arg: &std::ffi::OsStr) -> anyhow::Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    Ok(arg.as_bytes().to_vec())
}

/// Windows hands a program UTF-16 text; send it as UTF-8.
#[cfg(not(unix))]
fn argument_bytes(arg: &std::ffi::OsStr) -> anyhow::Result<Vec<u8>> {
    match arg.to_str() {
        Some(text) => Ok(text.as_bytes().to_vec()),
        None => Err(UsageError(format!("MESSAGE {arg:?} is not valid Unicode text")).into()),
    }
}

/// The usual reply line: the bytes as text (README, Conventions, rule 6),
/// and a note when the client's own buffer cut the reply.
fn show_reply(reply: &[u8], fit: datagram::Fit) -> String {
    format!("{}{}", common::show_bytes(reply), fit.note())
}

struct Client {
    socket: common::trace::TracedUdp,
    addr: SocketAddr,
    connected: bool,
    timeout: Duration,
    buf: RecvBuf,
}

impl Client {
    fn open(args: &ClientArgs) -> anyhow::Result<Client> {
        let addr = args.addr;
        // Port 0 on the wildcard address of ADDR's family: the kernel picks an
        // ephemeral port, as Python does on the first sendto of an unbound
        // socket. The server learns it from our datagram.
        let local: SocketAddr = match addr {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).with_context(|| format!("bind {local}"))?;
        if args.connect {
            // No packet leaves: connect() on a UDP socket only records the
            // peer. The kernel then delivers only ADDR's datagrams to us and
            // reports an ICMP "port unreachable" as ECONNREFUSED.
            socket
                .connect(addr)
                .with_context(|| format!("connect {addr}"))?;
        }
        Ok(Client {
            socket: common::trace::TracedUdp::new(socket),
            addr,
            connected: args.connect,
            timeout: Duration::from_millis(args.timeout),
            buf: RecvBuf::new(args.buf_size as usize),
        })
    }

    /// One sendto: one datagram, all of it or nothing.
    fn send(&self, data: &[u8]) -> anyhow::Result<()> {
        // region: sendto — one datagram: socket.send(data) when connected (--connect), else socket.send_to(data, addr); errors say `send ADDR` / `sendto ADDR`
        let addr = self.addr;
        if self.connected {
            self.socket
                .send(data)
                .with_context(|| format!("send {addr}"))?;
        } else {
            self.socket
                .send_to(data, addr)
                .with_context(|| format!("sendto {addr}"))?;
        }
        Ok(())
        // endregion: sendto
    }

    /// Wait until a datagram from ADDR arrives or the timeout passes; print
    /// `reply from PEER: ` and what `show` makes of it.
    fn wait_for_reply(
        &mut self,
        show: impl Fn(&[u8], datagram::Fit) -> String,
    ) -> anyhow::Result<()> {
        let addr = self.addr;
        // region: wait-for-reply — until one deadline: set_read_timeout(time left), buf.recv_from; a timeout ends with self.timed_out(); a datagram not from addr is logged `ignored …` and skipped; print `reply from PEER: …`
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timed_out());
            }
            self.socket
                .set_read_timeout(Some(left))
                .with_context(|| format!("setsockopt SO_RCVTIMEO {addr}"))?;
            let what = if self.connected { "recv" } else { "recvfrom" };
            let datagram = match self.buf.recv_from(&self.socket) {
                Ok(datagram) => datagram,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                // Unix says EAGAIN when SO_RCVTIMEO runs out, Windows says
                // WSAETIMEDOUT.
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(self.timed_out())
                }
                // Windows reports an ICMP "port unreachable" even on an
                // unconnected socket (WSAECONNRESET). Linux keeps such errors
                // for connected sockets only; do the same, so that a closed
                // port looks alike everywhere: no reply, then the timeout.
                Err(err) if !self.connected && err.kind() == ErrorKind::ConnectionReset => continue,
                Err(err) => return Err(err).with_context(|| format!("{what} {addr}")),
            };
            if datagram.peer != addr {
                // Anyone may send to an unconnected UDP socket; a datagram
                // from elsewhere is not the reply, whatever it contains.
                say!(
                    "ignored {} bytes from {}: not from {addr}",
                    datagram.data.len(),
                    datagram.peer
                );
                continue;
            }
            say!(
                "reply from {}: {}",
                datagram.peer,
                show(datagram.data, datagram.fit)
            );
            return Ok(());
        }
        // endregion: wait-for-reply
    }

    fn timed_out(&self) -> anyhow::Error {
        anyhow!(
            "timeout: no reply from {} within {} ms",
            self.addr,
            self.timeout.as_millis()
        )
    }
}
