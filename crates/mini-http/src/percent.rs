//! Percent-encoding: how a URL carries bytes that are not plain ASCII
//! letters (`你` is `%E4%BD%A0`), and how an HTML form sends its fields
//! (`application/x-www-form-urlencoded`: `a=1&b=%E4%BD%A0`, `+` for space).
//!
//! Decoding happens exactly once. A server that decodes twice turns
//! `%252e%252e` into `..` — a classic way out of the document root.

/// Decode `%XX` escapes into bytes; `None` if an escape is malformed.
/// With `plus_is_space` (form fields), `+` decodes to a space.
pub fn decode(text: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hi = (hex[0] as char).to_digit(16)?;
                let lo = (hex[1] as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Split `a=1&b=%E4%BD%A0` into decoded (name, value) pairs, in order.
/// Bytes that are not UTF-8 after decoding are shown as U+FFFD.
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let show = |s: &str| match decode(s, true) {
                Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                None => s.to_string(),
            };
            (show(name), show(value))
        })
        .collect()
}

/// Encode a path segment for a link (directory listings).
pub fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escape text for HTML (`<` `>` `&` `"` `'`).
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_only() {
        assert_eq!(decode("%2e%2e", false).unwrap(), b"..");
        assert_eq!(decode("%252e", false).unwrap(), b"%2e");
        assert_eq!(decode("a+b", false).unwrap(), b"a+b");
        assert_eq!(decode("a+b", true).unwrap(), b"a b");
        assert_eq!(decode("%zz", false), None);
        assert_eq!(decode("%4", false), None);
    }

    #[test]
    fn form_fields_decode_utf8_and_plus() {
        assert_eq!(
            parse_form("a=1&b=%E4%BD%A0+%E5%A5%BD&flag"),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "你 好".to_string()),
                ("flag".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn listing_names_are_encoded_and_escaped() {
        assert_eq!(encode_segment("a b/你"), "a%20b%2F%E4%BD%A0");
        assert_eq!(
            html_escape("<a href=\"x\">"),
            "&lt;a href=&quot;x&quot;&gt;"
        );
    }
}
