//! The application — the notes' "后端应用程序" (back-end application).
//!
//! The web server ([`crate::server`]) owns the sockets: it accepts
//! connections, reads bytes, finds where each request begins and ends, and
//! enforces the limits. It hands every complete request to [`App::handle`]
//! and writes back the [`Response`] it returns. Nothing in this file knows
//! about sockets, and nothing in the server knows about URLs: these are the
//! two halves of the notes' flow (网站访问流程, steps 3 and 4):
//!
//! ```text
//! browser ──TCP──▶ web server: parse request ──▶ application: route, act
//! browser ◀──TCP── web server: write response ◀── application: Response
//! ```
//!
//! Routes: `/echo` (query and form parsing), `/private/` (Basic
//! authentication when `--auth` is set), and either the files under
//! `--root` or, without `--root`, the built-in demo site.

use std::net::SocketAddr;

use base64::Engine as _;

use crate::demo;
use crate::files::{decode_path, Conditions, Files};
use crate::percent::parse_form;
use crate::request::Head;
use crate::response::Response;

/// A complete request, as the web server hands it over.
pub struct Request<'a> {
    pub head: &'a Head,
    pub body: &'a [u8],
    pub peer: SocketAddr,
    /// The [`crate::files::tick`] of the `recv` that brought its last
    /// bytes: a kept file checked after it is fresh enough to serve.
    pub received: u64,
}

/// Every method the notes list (8.1.3.2.1). Anything else is 501.
const KNOWN_METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

pub struct App {
    files: Option<Files>,
    /// `user:password` for /private/ (`--auth`).
    auth: Option<String>,
}

impl App {
    pub fn new(files: Option<Files>, auth: Option<String>) -> App {
        App { files, auth }
    }

    /// The methods a resource allows, for `Allow` on 405 and OPTIONS.
    fn allow(&self, path: &str) -> &'static str {
        if path == "/echo" {
            return "GET, HEAD, POST, OPTIONS, TRACE";
        }
        match &self.files {
            Some(files) if files.allow_write() => "GET, HEAD, PUT, DELETE, OPTIONS, TRACE",
            _ => "GET, HEAD, OPTIONS, TRACE",
        }
    }

    fn not_allowed(&self, method: &str, path: &str) -> Response {
        let allow = self.allow(path);
        let hint = if matches!(method, "PUT" | "DELETE") && self.files.is_some() {
            " (start the server with --allow-write to let PUT and DELETE change files)"
        } else {
            ""
        };
        Response::error(405, &format!("{method} is not allowed on {path}{hint}"))
            .header("Allow", allow)
    }

    /// The final answer to a request, if its head alone decides it: an
    /// unknown method, a method this resource does not allow, missing or
    /// wrong credentials, a write outside the root or whose precondition
    /// fails. The web server asks this before it sends `100 Continue`, so a
    /// client is not invited to upload a body that will be refused anyway;
    /// [`App::handle`] asks it first too, so both give the same answer.
    pub fn decided_by_head(&self, head: &Head) -> Option<Response> {
        let method = head.method.as_str();
        if !KNOWN_METHODS.contains(&method) {
            return Some(Response::error(
                501,
                &format!("method {method} is not implemented"),
            ));
        }
        if method == "CONNECT" {
            // CONNECT asks a proxy for a tunnel; this is not a proxy.
            return Some(
                Response::error(405, "CONNECT: this server is not a proxy")
                    .header("Allow", self.allow("*")),
            );
        }
        if matches!(method, "TRACE" | "OPTIONS") {
            return None;
        }
        let (path, _) = split_target(&head.target);
        if path == "/echo" {
            return match method {
                "GET" | "HEAD" | "POST" => None,
                _ => Some(self.not_allowed(method, path)),
            };
        }
        if let Some(credentials) = &self.auth {
            if path == "/private" || path.starts_with("/private/") {
                if let Some(refused) = check_basic_auth(head, credentials) {
                    return Some(refused);
                }
            }
        }
        match (&self.files, method) {
            (_, "GET" | "HEAD") => None,
            (Some(files), "PUT" | "DELETE") if files.allow_write() => {
                files.check_write(path, &Conditions::of(head)).err()
            }
            _ => Some(self.not_allowed(method, path)),
        }
    }

    pub fn handle(&self, request: &Request<'_>) -> Response {
        let head = request.head;
        if let Some(decided) = self.decided_by_head(head) {
            return decided;
        }
        let method = head.method.as_str();
        if method == "TRACE" {
            return trace(head);
        }
        let (path, query) = split_target(&head.target);
        if path == "*" {
            return Response::new(204).header("Allow", self.allow("*"));
        }
        if method == "OPTIONS" {
            return Response::new(204).header("Allow", self.allow(path));
        }
        if path == "/echo" {
            return echo(request, query);
        }
        let conditions = Conditions::of(head);
        match &self.files {
            Some(files) => match method {
                "PUT" => files.put(path, request.body, &conditions),
                "DELETE" => files.delete(path, &conditions),
                _ => files.get(path, query, &conditions, request.received),
            },
            None => self.demo_site(path, head),
        }
    }

    /// Without `--root`: the lesson's own page, and a private page.
    fn demo_site(&self, path: &str, head: &Head) -> Response {
        if let Err(response) = decode_path(path) {
            return response;
        }
        match path {
            "/" | "/index.html" => {
                Response::new(200).body("text/html; charset=utf-8", demo::page(self.auth.is_some()))
            }
            "/private" => Response::error(301, "moved to /private/").header("Location", "/private/"),
            "/private/" if self.auth.is_some() => {
                let user = head
                    .header("authorization")
                    .and_then(basic_user)
                    .unwrap_or_default();
                Response::new(200).body(
                    "text/plain; charset=utf-8",
                    format!("Welcome, {user}: your browser sent the right Authorization header.\n"),
                )
            }
            _ => Response::error(404, &format!("no page {path} (this is the built-in demo site; serve your files with --root DIR)")),
        }
    }
}

/// `/echo?a=1` → (`/echo`, `Some("a=1")`); an absolute-form target
/// (`http://host/echo`) loses its scheme and authority first.
pub fn split_target(target: &str) -> (&str, Option<&str>) {
    let mut rest = target;
    for scheme in ["http://", "https://"] {
        if let Some(after) = rest.strip_prefix(scheme) {
            rest = after.find('/').map_or("/", |slash| &after[slash..]);
        }
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    }
}

/// GET /echo shows the parsed query; POST /echo also the body and, for
/// `application/x-www-form-urlencoded`, the parsed form fields.
fn echo(request: &Request<'_>, query: Option<&str>) -> Response {
    let head = request.head;
    let mut text = format!("{}\nfrom {}\n", head.request_line(), request.peer);
    let fields = parse_form(query.unwrap_or(""));
    text.push_str(&format!("query parameters: {}\n", fields.len()));
    for (name, value) in &fields {
        text.push_str(&format!("  {name} = {value}\n"));
    }
    if head.method == "POST" {
        let content_type = head.header("content-type").unwrap_or("(none)");
        text.push_str(&format!(
            "body: {} bytes, Content-Type: {content_type}\n  {}\n",
            request.body.len(),
            common::show_bytes(request.body)
        ));
        let is_form = content_type.split(';').next().is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if is_form {
            let form = parse_form(&String::from_utf8_lossy(request.body));
            text.push_str(&format!("form fields: {}\n", form.len()));
            for (name, value) in &form {
                text.push_str(&format!("  {name} = {value}\n"));
            }
        }
    }
    Response::new(200).body("text/plain; charset=utf-8", text)
}

/// TRACE: send the request back as the server received it, so a client can
/// see what the proxies in between changed. Credentials are left out: a
/// page script must not read them back this way (cross-site tracing).
fn trace(head: &Head) -> Response {
    let mut text = format!("{}\r\n", head.request_line());
    for (name, value) in &head.headers {
        if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie") {
            continue;
        }
        text.push_str(name);
        text.push_str(": ");
        text.push_str(&String::from_utf8_lossy(value));
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    Response::new(200).body("message/http", text)
}

/// None if the request carries `Authorization: Basic base64(user:pass)`
/// matching `credentials`; otherwise the 401 that asks for them.
fn check_basic_auth(head: &Head, credentials: &str) -> Option<Response> {
    let sent = head
        .header("authorization")
        .and_then(|value| {
            value
                .strip_prefix("Basic ")
                .or_else(|| value.strip_prefix("basic "))
        })
        .and_then(|b64| base64_decode(b64.trim()));
    if sent.as_deref() == Some(credentials.as_bytes()) {
        return None;
    }
    let detail = if sent.is_some() {
        "wrong user name or password"
    } else {
        "this page needs a user name and password (Authorization: Basic ...)"
    };
    Some(Response::error(401, detail).header(
        "WWW-Authenticate",
        "Basic realm=\"mini-http private\", charset=\"UTF-8\"",
    ))
}

fn basic_user(value: &str) -> Option<String> {
    let decoded = base64_decode(value.strip_prefix("Basic ")?.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.0.to_string())
}

/// Standard base64 (RFC 4648) with `=` padding, as Basic authentication
/// uses; the base64 crate decodes it.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_into_path_and_query() {
        assert_eq!(split_target("/echo?a=1&b=2"), ("/echo", Some("a=1&b=2")));
        assert_eq!(split_target("/x"), ("/x", None));
        assert_eq!(
            split_target("http://127.0.0.1:8000/echo?a=1"),
            ("/echo", Some("a=1"))
        );
        assert_eq!(split_target("http://127.0.0.1:8000"), ("/", None));
    }

    #[test]
    fn base64_decodes_basic_credentials() {
        assert_eq!(base64_decode("YWxpY2U6c2VjcmV0").unwrap(), b"alice:secret");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("!!"), None);
    }
}
