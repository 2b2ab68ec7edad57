//! Times in a recording: what `--at TIME` and the replay's "go to time" accept, and how frame
//! times are shown. Local time is the system's time zone (TZ, /etc/localtime), as `date` shows.

use super::Recording;
use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// Why a TIME names no frame of a recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtError {
    #[error(
        "'{0}' is not a time: give RFC 3339 (2026-12-07T03:12:00Z), a time of day of the recording (03:12, 03:12:00), or an offset from its end (-10m) or start (+5m)"
    )]
    NotATime(String),
    #[error("{at} is before the recording starts ({start})")]
    BeforeStart { at: String, start: String },
    #[error("{at} is after the recording ends ({end})")]
    AfterEnd { at: String, end: String },
    #[error("no {0} within the recording ({1} to {2})")]
    NotInSpan(String, String, String),
}

/// A frame time (ms since the epoch) in local time: "2026-12-07 03:12:05 UTC".
pub fn show(time_ms: i64) -> String {
    match Timestamp::from_millisecond(time_ms) {
        Ok(t) => t
            .to_zoned(TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string(),
        Err(_) => format!("{time_ms} ms"),
    }
}

/// The same, time of day only ("03:12:05"), for the time bar.
pub fn show_time_of_day(time_ms: i64) -> String {
    match Timestamp::from_millisecond(time_ms) {
        Ok(t) => t
            .to_zoned(TimeZone::system())
            .strftime("%H:%M:%S")
            .to_string(),
        Err(_) => format!("{time_ms} ms"),
    }
}

/// The frame `spec` names in `rec`: the last frame taken at or before that time (the state as
/// it was then). A time later than the last frame by more than two intervals, or earlier than
/// the first frame, names none.
pub fn frame_at(rec: &Recording, spec: &str) -> Result<usize, AtError> {
    let frames = rec.frames();
    let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
        return Err(AtError::NotATime(spec.to_string()));
    };
    let at = parse(spec, first.time_ms, last.time_ms)?;
    if at < first.time_ms {
        return Err(AtError::BeforeStart {
            at: show(at),
            start: show(first.time_ms),
        });
    }
    let slack = 2 * i64::from(rec.interval_ms()).max(1000);
    if at > last.time_ms + slack {
        return Err(AtError::AfterEnd {
            at: show(at),
            end: show(last.time_ms),
        });
    }
    // Frame times normally rise; a clock set back makes them fall: the last frame at or
    // before the time, in file order.
    Ok(frames.iter().rposition(|f| f.time_ms <= at).unwrap_or(0))
}

/// `spec` as ms since the epoch, for a recording from `start` to `end` (ms).
pub fn parse(spec: &str, start: i64, end: i64) -> Result<i64, AtError> {
    let text = spec.trim();
    let bad = || AtError::NotATime(spec.to_string());
    if let Some(rest) = text.strip_prefix('-') {
        let d = humantime::parse_duration(rest.trim()).map_err(|_| bad())?;
        return Ok(end.saturating_sub(d.as_millis() as i64));
    }
    if let Some(rest) = text.strip_prefix('+') {
        let d = humantime::parse_duration(rest.trim()).map_err(|_| bad())?;
        return Ok(start.saturating_add(d.as_millis() as i64));
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let tz = TimeZone::system();
    if let Ok(dt) = text.parse::<DateTime>() {
        return dt
            .to_zoned(tz)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| bad());
    }
    let time: Time = text.parse().map_err(|_| bad())?;
    time_of_day(spec, time, start, end, &tz)
}

/// A time of day: on the last day of the recording it falls within.
fn time_of_day(
    spec: &str,
    time: Time,
    start: i64,
    end: i64,
    tz: &TimeZone,
) -> Result<i64, AtError> {
    let zoned = |ms: i64| -> Option<Zoned> {
        Some(Timestamp::from_millisecond(ms).ok()?.to_zoned(tz.clone()))
    };
    let (Some(first), Some(last)) = (zoned(start), zoned(end)) else {
        return Err(AtError::NotATime(spec.to_string()));
    };
    let mut day = last.date();
    while day >= first.date() {
        if let Ok(z) = day.to_datetime(time).to_zoned(tz.clone()) {
            let ms = z.timestamp().as_millisecond();
            if ms <= end && ms >= start {
                return Ok(ms);
            }
        }
        match day.yesterday() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    Err(AtError::NotInSpan(spec.to_string(), show(start), show(end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_796_613_120_000; // 2026-12-07T03:12:00Z
    const END: i64 = START + 3_600_000;

    #[test]
    fn forms_of_time() {
        assert_eq!(parse("-10m", START, END), Ok(END - 600_000));
        assert_eq!(parse("+5m", START, END), Ok(START + 300_000));
        assert_eq!(parse("2026-12-07T03:12:00Z", START, END), Ok(START));
        assert_eq!(parse("2026-12-07T04:12:00+01:00", START, END), Ok(START));
        assert!(matches!(
            parse("tomorrow", START, END),
            Err(AtError::NotATime(_))
        ));
        assert!(matches!(
            parse("-10 parsecs", START, END),
            Err(AtError::NotATime(_))
        ));
    }

    #[test]
    fn time_of_day_falls_within_the_recording() {
        let tz = TimeZone::UTC;
        let t = |s: &str| s.parse::<Time>().unwrap();
        assert_eq!(
            time_of_day("03:42", t("03:42"), START, END, &tz),
            Ok(START + 1_800_000)
        );
        assert!(matches!(
            time_of_day("05:00", t("05:00"), START, END, &tz),
            Err(AtError::NotInSpan(..))
        ));
    }
}
