//! Bytes as text, by README "Conventions", rule 6 — the harness's own copy.
//!
//! The programs render bytes by this rule through `crates/common/src/text.rs`;
//! the tests that grade them render what they expected and what they got
//! with this module instead, and that is on purpose: the grader's oracle
//! stays independent of the reference, so a mistake in the reference's
//! rendering cannot hide by being made the same way on both sides. It
//! depends on nothing else in this crate.

use std::fmt::Write as _;

/// Bytes shown as text by README "Conventions", rule 6: valid UTF-8 as it
/// is; `\n`, `\r`, `\t`, `\` as `\n`, `\r`, `\t`, `\\`; every other control
/// character and every byte that is not UTF-8 as `\xNN` per byte.
pub fn text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
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
    use super::*;

    #[test]
    fn text_follows_rule_6() {
        assert_eq!(
            text(b"tab\there\x01\xff \\ \xe4\xbd\xa0\xe5\xa5\xbd\n\r"),
            "tab\\there\\x01\\xff \\\\ 你好\\n\\r"
        );
        assert_eq!(text("\u{85}".as_bytes()), "\\xc2\\x85");
    }
}
