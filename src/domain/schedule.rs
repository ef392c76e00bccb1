//! A venue's weekly schedule and the capacity of each 15-minute window.
//!
//! Windows are UTC-aligned 15-minute intervals; a window's capacity is
//! `floor(slots_per_hour / 4)` for the venue's *local* weekday and hour at the window's
//! start. Working in UTC makes daylight saving fall out naturally: a local hour that
//! repeats maps to two distinct UTC hours (eight windows), and a skipped local hour has
//! no UTC instant at all (no windows). Zones with 30- or 45-minute offsets still align,
//! as every such offset is a multiple of 15 minutes.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::limits::{SLOTS_PER_HOUR_MAX, WINDOW_SECS};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("slots_per_hour must be at most {SLOTS_PER_HOUR_MAX}, got {0}")]
    TooManySlots(u32),
    #[error("hour must be 0..=23, got {0}")]
    BadHour(u8),
}

/// One exception to the default: on `weekday` (local), during local `hour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourOverride {
    pub weekday: Weekday,
    pub hour: u8,
    pub slots_per_hour: u32,
}

/// Slots per hour for every local weekday and hour: a default plus overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    default_slots_per_hour: u32,
    /// Keyed by (weekday number from Monday = 0, hour).
    overrides: BTreeMap<(u8, u8), u32>,
}

impl Schedule {
    pub fn new(default_slots_per_hour: u32, overrides: &[HourOverride]) -> Result<Self, ScheduleError> {
        check_slots(default_slots_per_hour)?;
        overrides.iter().try_for_each(|o| check_slots(o.slots_per_hour))?;
        Self::restore(default_slots_per_hour, overrides)
    }

    /// Rebuilds a schedule that was valid when it was recorded: input limits may have
    /// tightened since, and history must still load. Only structure is checked.
    pub fn restore(default_slots_per_hour: u32, overrides: &[HourOverride]) -> Result<Self, ScheduleError> {
        let mut table = BTreeMap::new();
        for o in overrides {
            if o.hour > 23 {
                return Err(ScheduleError::BadHour(o.hour));
            }
            // Later overrides win, as they would when reading the config top to bottom.
            table.insert((o.weekday.num_days_from_monday() as u8, o.hour), o.slots_per_hour);
        }
        Ok(Self { default_slots_per_hour, overrides: table })
    }

    pub fn default_slots_per_hour(&self) -> u32 {
        self.default_slots_per_hour
    }

    /// The overrides in a stable order (weekday from Monday, then hour).
    pub fn overrides(&self) -> Vec<HourOverride> {
        let weekday = |n: u8| Weekday::try_from(n).expect("stored weekday numbers are 0..=6");
        self.overrides
            .iter()
            .map(|(&(day, hour), &slots_per_hour)| HourOverride { weekday: weekday(day), hour, slots_per_hour })
            .collect()
    }

    /// Slots per hour for a local weekday and hour.
    pub fn slots_per_hour(&self, weekday: Weekday, hour: u8) -> u32 {
        let key = (weekday.num_days_from_monday() as u8, hour);
        self.overrides.get(&key).copied().unwrap_or(self.default_slots_per_hour)
    }

    /// Capacity of the window starting at `start` (UTC) for a venue in `timezone`.
    pub fn capacity_at(&self, timezone: Tz, start: DateTime<Utc>) -> u32 {
        let local = start.with_timezone(&timezone);
        let hour = u8::try_from(local.hour()).expect("an hour of the day fits in u8");
        self.slots_per_hour(local.weekday(), hour) / 4
    }
}

fn check_slots(slots: u32) -> Result<(), ScheduleError> {
    if slots > SLOTS_PER_HOUR_MAX {
        return Err(ScheduleError::TooManySlots(slots));
    }
    Ok(())
}

/// True when `t` starts a 15-minute UTC window (whole seconds, no sub-second part).
pub fn is_window_aligned(t: DateTime<Utc>) -> bool {
    t.timestamp().rem_euclid(WINDOW_SECS) == 0 && t.timestamp_subsec_nanos() == 0
}

/// The start of the window that contains `t`.
pub fn window_start_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let start = secs - secs.rem_euclid(WINDOW_SECS);
    DateTime::from_timestamp(start, 0).expect("a floor of a valid timestamp is valid")
}

/// The starts of the windows that overlap `[from, to)`, in order.
pub fn window_starts_covering(from: DateTime<Utc>, to: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    let mut next = window_start_of(from);
    std::iter::from_fn(move || {
        (next < to).then(|| {
            let current = next;
            next += Duration::seconds(WINDOW_SECS);
            current
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamps are valid RFC 3339")
    }

    #[test]
    fn alignment_and_flooring() {
        assert!(is_window_aligned(at("2026-11-28T10:45:00Z")));
        assert!(!is_window_aligned(at("2026-11-28T10:46:00Z")));
        assert!(!is_window_aligned(at("2026-11-28T10:45:00.5Z")));
        assert_eq!(window_start_of(at("2026-11-28T10:59:59Z")), at("2026-11-28T10:45:00Z"));
        let starts: Vec<_> = window_starts_covering(at("2026-11-28T10:01:00Z"), at("2026-11-28T10:45:00Z")).collect();
        let expected = ["2026-11-28T10:00:00Z", "2026-11-28T10:15:00Z", "2026-11-28T10:30:00Z"];
        assert_eq!(starts, expected.map(at).to_vec());
    }

    #[test]
    fn overrides_win_and_capacity_is_a_quarter_rounded_down() {
        let s = Schedule::new(10, &[HourOverride { weekday: Weekday::Sat, hour: 22, slots_per_hour: 83 }]).unwrap();
        // 2026-11-28 is a Saturday; Europe/Berlin is UTC+1 in November.
        assert_eq!(s.capacity_at(chrono_tz::Europe::Berlin, at("2026-11-28T21:15:00Z")), 20);
        assert_eq!(s.capacity_at(chrono_tz::Europe::Berlin, at("2026-11-28T22:00:00Z")), 2);
        assert!(Schedule::new(SLOTS_PER_HOUR_MAX + 1, &[]).is_err());
    }
}
