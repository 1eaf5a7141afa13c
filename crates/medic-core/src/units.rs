//! Spark's size strings ("4g", "4096m", "512k", "1t", plain numbers) as bytes.
//!
//! Spark reads sizes with `JavaUtils.byteStringAs`: a number, then an optional case-insensitive unit `b`, `k`/`kb`,
//! `m`/`mb`, `g`/`gb`, `t`/`tb`, `p`/`pb`, all powers of 1024. A plain number is in the setting's own default unit:
//! MiB for `spark.executor.memory` and the other memory settings, bytes for thresholds such as
//! `spark.sql.autoBroadcastJoinThreshold`. Spark refuses fractions ("1.5g"); medic accepts them when reading
//! history, so that hand-written records are not lost, and writes whole MiB itself ([`format_mib`]).

/// The unit of a size written without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    /// Bytes (`spark.sql.autoBroadcastJoinThreshold`, `spark.driver.maxResultSize` when plain).
    Bytes,
    /// KiB (`spark.shuffle.file.buffer`).
    Kib,
    /// MiB (`spark.executor.memory`, `spark.driver.memory`, `spark.executor.memoryOverhead`).
    Mib,
}

/// A size string that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a Spark size (a number with an optional unit b, k, m, g, t or p)")]
pub struct SizeError {
    /// The text.
    pub text: String,
}

/// `text` in bytes, a plain number being in `default` units. Negative, non-finite and overflowing sizes are errors.
pub fn parse_size(text: &str, default: SizeUnit) -> Result<u64, SizeError> {
    let error = || SizeError {
        text: text.to_owned(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(error());
    }
    let value: f64 = number.parse().map_err(|_| error())?;
    // Compared case-insensitively in place: the optimiser parses sizes thousands of times per recommendation.
    let unit = unit.trim().as_bytes();
    let unit = match unit {
        [letter] => Some(letter.to_ascii_lowercase()),
        // `kb`, `mb`, ... but not `bb`.
        [letter, b'b' | b'B'] if !letter.eq_ignore_ascii_case(&b'b') => {
            Some(letter.to_ascii_lowercase())
        }
        [] => None,
        _ => return Err(error()),
    };
    let shift = match unit {
        None => match default {
            SizeUnit::Bytes => 0,
            SizeUnit::Kib => 10,
            SizeUnit::Mib => 20,
        },
        Some(b'b') => 0,
        Some(b'k') => 10,
        Some(b'm') => 20,
        Some(b'g') => 30,
        Some(b't') => 40,
        Some(b'p') => 50,
        Some(_) => return Err(error()),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(error());
    }
    Ok(bytes.round() as u64)
}

/// A size as Spark and YARN write it in their messages (`40.6 MiB`, `4.5 GB`, `1024.0 KiB`, `512 B`) in bytes. Both
/// count in powers of 1024 whatever the spelling (Spark's `Utils.bytesToString`, YARN's container monitor); a plain
/// number is bytes.
pub fn parse_logged_size(text: &str) -> Result<u64, SizeError> {
    let trimmed = text.trim();
    let binary = trimmed
        .strip_suffix("iB")
        .map(|prefix| format!("{prefix}B"));
    parse_size(binary.as_deref().unwrap_or(trimmed), SizeUnit::Bytes).map_err(|_| SizeError {
        text: text.to_owned(),
    })
}

/// `bytes` as a whole number of MiB with Spark's `m` suffix, rounded up (`"4096m"`), the form medic writes.
pub fn format_mib(bytes: u64) -> String {
    format!("{}m", bytes.div_ceil(1 << 20))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn spark_size_strings() {
        let cases = [
            ("4g", SizeUnit::Mib, 4 << 30),
            ("4096m", SizeUnit::Mib, 4 << 30),
            ("4096", SizeUnit::Mib, 4 << 30),
            ("1.5g", SizeUnit::Mib, 3 << 29),
            ("512k", SizeUnit::Bytes, 512 << 10),
            ("512KB", SizeUnit::Bytes, 512 << 10),
            ("1t", SizeUnit::Mib, 1 << 40),
            ("10485760", SizeUnit::Bytes, 10 << 20),
            (" 2 G ", SizeUnit::Mib, 2 << 30),
            ("0", SizeUnit::Mib, 0),
        ];
        for (text, unit, bytes) in cases {
            assert_eq!(parse_size(text, unit), Ok(bytes), "{text}");
        }
        for bad in [
            "",
            "g",
            "-1g",
            "4x",
            "4 gigs",
            "1e9",
            ".5g",
            "5.g",
            "99999999999p",
            "NaN",
            "4g4",
        ] {
            assert!(parse_size(bad, SizeUnit::Mib).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_as_spark_and_yarn_log_them() {
        for (text, bytes) in [
            ("40.6 MiB", (40.6 * (1u64 << 20) as f64).round() as u64),
            ("32.0 MiB", 32 << 20),
            ("4.5 GB", 9 << 29),
            ("1024.0 KiB", 1 << 20),
            ("512 B", 512),
            ("268434944", 268_434_944),
        ] {
            assert_eq!(parse_logged_size(text), Ok(bytes), "{text}");
        }
        assert!(parse_logged_size("lots").is_err());
    }

    proptest! {
        #[test]
        fn whole_sizes_round_trip_through_every_unit(value in 0u64..1_000_000, unit in 0usize..5) {
            let (suffix, shift) = [("b", 0), ("k", 10), ("m", 20), ("g", 30), ("t", 40)][unit];
            prop_assert_eq!(parse_size(&format!("{value}{suffix}"), SizeUnit::Bytes), Ok(value << shift));
            prop_assert_eq!(parse_size(&format!("{value}{}", suffix.to_uppercase()), SizeUnit::Mib), Ok(value << shift));
        }

        #[test]
        fn formatted_mib_reads_back_at_least_as_large(bytes in 0u64..(1 << 50)) {
            let read = parse_size(&format_mib(bytes), SizeUnit::Mib).expect("valid");
            prop_assert!(read >= bytes && read - bytes < (1 << 20));
        }

        #[test]
        fn any_text_is_an_answer_not_a_panic(text in "\\PC{0,12}") {
            let _ = parse_size(&text, SizeUnit::Mib);
        }
    }
}
