//! Byte counts on the command line: `--bench 1G`, `--size 64K`.

/// Parse a byte count: a number, optionally followed by `K`, `M` or `G`
/// (powers of 1024, as `ulimit` and `dd` count; `KiB`, `MiB`, `GiB` and `B`
/// are accepted too). Used as a clap `value_parser`.
pub fn parse_byte_count(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(split);
    let scale: u64 = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("'{text}' is not a byte count: expected a number with an optional K, M or G suffix, such as 65536 or 16M")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("'{text}' is not a byte count: expected a number with an optional K, M or G suffix, such as 65536 or 16M"))
}

#[cfg(test)]
mod tests {
    use super::parse_byte_count;

    #[test]
    fn plain_numbers_and_binary_suffixes() {
        assert_eq!(parse_byte_count("0"), Ok(0));
        assert_eq!(parse_byte_count("65536"), Ok(65536));
        assert_eq!(parse_byte_count("64K"), Ok(65536));
        assert_eq!(parse_byte_count("16m"), Ok(16 << 20));
        assert_eq!(parse_byte_count("1GiB"), Ok(1 << 30));
    }

    #[test]
    fn garbage_and_overflow_are_refused() {
        for bad in [
            "",
            "K",
            "-1",
            "1.5M",
            "12Q",
            "99999999999999999999",
            "18446744073709551615G",
        ] {
            assert!(parse_byte_count(bad).is_err(), "{bad}");
        }
    }
}
