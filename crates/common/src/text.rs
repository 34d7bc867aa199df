//! Showing received bytes as text.
//!
//! The network carries bytes, not strings (Python's `recv` returns `bytes`).
//! Logs show them so that a reader sees exactly what arrived:
//!
//! * valid UTF-8 prints as it is — Chinese included;
//! * `\n`, `\r`, `\t` and the backslash itself print as `\n`, `\r`, `\t`, `\\`;
//! * every other control character (U+0000–U+001F, U+007F, U+0080–U+009F)
//!   prints as `\xNN` for each of its UTF-8 bytes;
//! * bytes that are not valid UTF-8 print as `\xNN`.
//!
//! So one log line is always one line, and two different byte strings never
//! look the same. Hex digits are lower case.

use std::fmt::Write;

/// Show `bytes` as one line of text; see the module documentation for the rules.
pub fn show_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut utf8 = [0u8; 4];
                    for b in c.encode_utf8(&mut utf8).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::show_bytes;

    #[test]
    fn plain_and_chinese_text_print_as_is() {
        assert_eq!(show_bytes(b"hello"), "hello");
        assert_eq!(show_bytes("粘包 sticky".as_bytes()), "粘包 sticky");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(show_bytes(b"a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(show_bytes(b"\x00\x1b\x7f"), "\\x00\\x1b\\x7f");
        assert_eq!(show_bytes("\u{85}".as_bytes()), "\\xc2\\x85");
        assert_eq!(show_bytes(b"back\\slash"), "back\\\\slash");
    }

    #[test]
    fn invalid_utf8_is_shown_byte_by_byte() {
        assert_eq!(show_bytes(b"ok\xff\xfe"), "ok\\xff\\xfe");
        // A Chinese character cut in half by a read boundary: its first two
        // bytes alone are not valid UTF-8.
        let half = &"粘".as_bytes()[..2];
        assert_eq!(show_bytes(half), "\\xe7\\xb2");
    }
}
