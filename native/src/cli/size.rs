//! Sizes as people write them: `2GB`, `512MiB`, `1.5G`, `1000000`.

/// Parses a byte size. Decimal (`KB`, `MB`, `GB`, `TB`) and binary (`KiB` ...) units are
/// both accepted; a bare `K`/`M`/`G`/`T` is binary, as in most tools.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a size; write it like 2GB or 512MiB"))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}'; use KB, MB, GB, TB or KiB, MiB, GiB, TiB"
            ));
        }
    };
    let bytes = value * multiplier;
    if !(1.0..=(usize::MAX as f64)).contains(&bytes) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(1610612736));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2 parsecs").is_err());
    }
}
