//! Human durations (`250ms`, `2s`, `1m`, `500us`) for flags and config files, with serde helpers.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Parses `10`, `10ms`, `1.5s`, `2m`, `500us` (a bare number is milliseconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("duration {s:?}: expected a number with ms, s, m or us"))?;
    let secs = match unit.trim() {
        "" | "ms" => n / 1e3,
        "us" => n / 1e6,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("duration {s:?}: unknown unit")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("duration {s:?}: out of range"))
}

/// Writes a duration the way [`parse_duration`] reads it.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms.fract() == 0.0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}us", d.as_micros())
    }
}

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

/// The same for `Option<Duration>` (absent or null is `None`).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse_duration(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("40").unwrap(), Duration::from_millis(40));
        assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn formats_back() {
        for d in [Duration::from_millis(250), Duration::from_micros(1500)] {
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
