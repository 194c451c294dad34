//! Human-readable durations exactly as apimachinery's `duration.HumanDuration`, used for AGE
//! columns, `RESTARTS (… ago)` and describe's event ages.
//!
//! This module owns the rounding rules only; it must never read a clock (callers pass `now`).

use netsim_model::jiff::Timestamp;

/// `duration.HumanDuration(d)` for a duration of `seconds` (already truncated toward zero, as
/// Go's `int(d.Seconds())`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: `<unknown>` for a missing timestamp, else the human duration
/// from `t` to `now`.
pub fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        None => "<unknown>".to_string(),
        Some(t) => human_duration(seconds_between(t, now)),
    }
}

/// Whole seconds from `from` to `to`, truncated toward zero like Go's `int(d.Seconds())`.
pub fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    let nanos = to.as_nanosecond() - from.as_nanosecond();
    i64::try_from(nanos / 1_000_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_anchors() {
        assert_eq!(human_duration(30), "30s");
        assert_eq!(human_duration(5 * 60), "5m");
        assert_eq!(human_duration(100 * 60), "100m");
        assert_eq!(human_duration(2 * 86400), "2d");
        assert_eq!(human_duration(90 * 86400), "90d");
        assert_eq!(human_duration(10 * 365 * 86400), "10y");
    }

    #[test]
    fn reference_table() {
        for (s, want) in [
            (0, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (330, "5m30s"),
            (599, "9m59s"),
            (600, "10m"),
            (3600, "60m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 300, "3h5m"),
            (8 * 3600 - 60, "7h59m"),
            (8 * 3600, "8h"),
            (24 * 3600, "24h"),
            (47 * 3600, "47h"),
            (2 * 86400 + 5 * 3600, "2d5h"),
            (8 * 86400 - 3600, "7d23h"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (2 * 365 * 86400, "2y"),
            ((2 * 365 + 330) * 86400, "2y330d"),
            (-1, "0s"),
            (-2, "<invalid>"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn future_creation_truncates_toward_zero() {
        let now: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap();
        let in_1_9s = now + netsim_model::jiff::SignedDuration::from_millis(1900);
        let in_2_1s = now + netsim_model::jiff::SignedDuration::from_millis(2100);
        assert_eq!(since(Some(in_1_9s), now), "0s");
        assert_eq!(since(Some(in_2_1s), now), "<invalid>");
        assert_eq!(since(None, now), "<unknown>");
    }
}
