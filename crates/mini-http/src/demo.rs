//! The built-in demo site: what `cargo run -p mini-http` serves with no
//! `--root`. One page that explains lesson 8 and carries two forms aimed at
//! `/echo`, so a browser shows the whole flow — the query string of a GET,
//! the urlencoded body of a POST — and the terminal running the server shows
//! one access-log line per request.

/// The page at `/`. `auth` says whether /private/ is protected.
pub fn page(auth: bool) -> String {
    let private = if auth {
        "<p><a href=\"/private/\">/private/</a> needs the user name and password given with \
         <code>--auth USER:PASS</code>: the server answers <b>401</b> with \
         <code>WWW-Authenticate</code>, and your browser asks you for them.</p>"
    } else {
        "<p>Start the server with <code>--auth alice:secret</code> and <code>/private/</code> \
         will answer <b>401 Unauthorized</b> until the browser sends those credentials.</p>"
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mini-http — lesson 8: HTTP over TCP</title>
<style>
body {{ font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.45; padding: 0 1em; }}
pre, code {{ background: #f3f3f3; }}
pre {{ padding: .6em; overflow-x: auto; }}
form {{ border: 1px solid #ccc; padding: .8em; margin: .8em 0; }}
</style>
</head>
<body>
<h1>HTTP over TCP (tcp应用之http传输)</h1>
<p>Your browser opened a TCP connection to this server and wrote a few lines
of text into it: a <b>request line</b>, <b>header</b> lines, an <b>empty line</b>,
and (for a POST) a <b>body</b>. The server answered the same way: a
<b>status line</b> such as <code>HTTP/1.1 200 OK</code>, headers, an empty line,
and this page as the body. Look at the terminal running the server: it logs
one line per request.</p>
<pre>GET / HTTP/1.1
Host: 127.0.0.1:8000
...

</pre>
<p>The same, from a terminal, with the exact bytes shown:
<code>cargo run -p mini-http -- get -v http://127.0.0.1:8000/echo?a=1</code></p>

<h2>A GET form</h2>
<p>The fields travel in the URL, after <code>?</code>: watch the address bar.</p>
<form method="get" action="/echo">
<label>a <input name="a" value="1"></label>
<label>b <input name="b" value="你好"></label>
<button type="submit">GET /echo</button>
</form>

<h2>A POST form</h2>
<p>The fields travel in the request body, as
<code>application/x-www-form-urlencoded</code>; the URL stays <code>/echo</code>.</p>
<form method="post" action="/echo">
<label>name <input name="name" value="student"></label>
<label>message <input name="message" value="hello, 世界"></label>
<button type="submit">POST /echo</button>
</form>

<h2>Other pages</h2>
<ul>
<li><a href="/echo?a=1&amp;b=2">/echo?a=1&amp;b=2</a> — the query, parsed by the application</li>
<li><a href="/nowhere">/nowhere</a> — <b>404 Not Found</b></li>
<li><a href="/private">/private</a> — <b>301</b> to <code>/private/</code></li>
</ul>
{private}
<p>Serve a folder of your own files instead of this page:
<code>cargo run -p mini-http -- serve --root DIR</code>.
The lesson is <code>lessons/08-http/README.md</code>.</p>
</body>
</html>
"#
    )
}
