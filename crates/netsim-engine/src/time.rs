//! Virtual time: instants on the simulated clock and kubectl's duration syntax.
//!
//! This module owns converting between the engine's instants and API timestamps; it must never
//! read the wall clock.

use netsim_model::jiff::{SignedDuration, Timestamp};
use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// An API timestamp for `t`, truncated to whole seconds as the API server stores it.
pub fn api_time(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}

/// The longest duration one command may move the clock: ten years keeps every instant
/// printable (far from the calendar's end) while being longer than any lesson needs.
pub const MAX_DURATION_MS: i64 = 3650 * 86_400_000;

/// Parses a duration as `kubectl`/Go write it (`30s`, `2m`, `1h30m`, `500ms`, bare seconds),
/// at most [`MAX_DURATION_MS`].
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let bad =
        || format!("invalid duration {text:?}: use a number with a unit, e.g. 30s, 2m or 1h30m");
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    let too_long = || {
        format!(
            "duration {text:?} is too long: the virtual clock moves at most {}d at a time",
            MAX_DURATION_MS / 86_400_000
        )
    };
    if let Ok(secs) = text.parse::<u64>() {
        let secs = i64::try_from(secs).map_err(|_| too_long())?;
        if secs.saturating_mul(1000) > MAX_DURATION_MS {
            return Err(too_long());
        }
        return Ok(SignedDuration::from_secs(secs));
    }
    let mut total_ms: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        total_ms = n
            .checked_mul(unit_ms)
            .and_then(|v| total_ms.checked_add(v))
            .filter(|t| *t <= MAX_DURATION_MS)
            .ok_or_else(too_long)?;
        rest = &rest[unit_len..];
    }
    Ok(SignedDuration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30s").unwrap(),
            SignedDuration::from_secs(30)
        );
        assert_eq!(
            parse_duration("1h30m").unwrap(),
            SignedDuration::from_secs(5400)
        );
        assert_eq!(parse_duration("45").unwrap(), SignedDuration::from_secs(45));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5x").is_err());
    }
}
