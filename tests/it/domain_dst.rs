//! Window capacity across daylight-saving transitions and in zones with 30/45-minute
//! offsets.
//!
//! The schedule gives every local (weekday, hour) its own capacity
//! (`weekday * 24 + hour + 1`), so a window's capacity tells which local hour the
//! lookup used. Windows are UTC-aligned 15-minute intervals: a repeated local hour maps
//! to two UTC hours (eight windows with its capacity), a skipped local hour to none.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use qskip::domain::{HourOverride, Schedule, Venue, VenueId, window_starts_covering};

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("test timestamps are valid RFC 3339")
}

const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

/// A capacity that names its local (weekday, hour): 1 ..= 168.
fn tag(weekday: Weekday, hour: u8) -> u32 {
    weekday.num_days_from_monday() * 24 + u32::from(hour) + 1
}

fn untag(capacity: u32) -> (Weekday, u8) {
    assert!((1..=168).contains(&capacity), "capacity {capacity} is not a tag");
    let n = capacity - 1;
    (WEEKDAYS[(n / 24) as usize], (n % 24) as u8)
}

/// A venue whose every local hour has its own slots_per_hour (4 x its tag); the default
/// (0) is never used.
fn venue(timezone: Tz) -> Venue {
    let overrides: Vec<_> = WEEKDAYS
        .iter()
        .flat_map(|&weekday| {
            (0..24u8).map(move |hour| HourOverride { weekday, hour, slots_per_hour: 4 * tag(weekday, hour) + 3 })
        })
        .collect();
    let schedule = Schedule::new(0, &overrides).unwrap();
    Venue::new(VenueId::parse("dst").unwrap(), "DST".into(), timezone, 500, "eur", 1800, schedule).unwrap()
}

/// Which local (weekday, hour) the capacity of the window at `start` came from.
fn hour_used(venue: &Venue, start: DateTime<Utc>) -> (Weekday, u8) {
    let capacity = venue.capacity_at(start);
    assert_eq!(capacity, venue.schedule.capacity_at(venue.timezone, start));
    untag(capacity)
}

/// The UTC instant of local midnight at the start of `date` (never in a DST gap here).
fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap()).single().unwrap().with_timezone(&Utc)
}

/// Window starts grouped by the local hour their capacity came from, over the local
/// Saturday and Sunday of a transition weekend.
fn windows_by_local_hour(venue: &Venue, saturday: NaiveDate) -> HashMap<(Weekday, u8), Vec<DateTime<Utc>>> {
    assert_eq!(saturday.weekday(), Weekday::Sat);
    let from = local_midnight(venue.timezone, saturday);
    let to = local_midnight(venue.timezone, saturday + chrono::Days::new(2));
    let mut by_hour: HashMap<_, Vec<_>> = HashMap::new();
    for start in window_starts_covering(from, to) {
        by_hour.entry(hour_used(venue, start)).or_default().push(start);
    }
    by_hour
}

/// Checks a transition weekend: the `special` Sunday hour has exactly `expected` windows
/// (eight for a repeated hour, none for a skipped one); every other local hour of
/// Saturday and Sunday has four; and nothing else appears.
fn check_weekend(tz: Tz, saturday: &str, special: u8, expected: &[&str]) {
    let venue = venue(tz);
    let saturday: NaiveDate = saturday.parse().unwrap();
    let by_hour = windows_by_local_hour(&venue, saturday);
    for weekday in [Weekday::Sat, Weekday::Sun] {
        for hour in 0..24u8 {
            let starts = by_hour.get(&(weekday, hour)).cloned().unwrap_or_default();
            if weekday == Weekday::Sun && hour == special {
                let expected: Vec<_> = expected.iter().map(|s| at(s)).collect();
                assert_eq!(starts, expected, "{tz}: windows of local Sunday {hour}:00");
            } else {
                assert_eq!(starts.len(), 4, "{tz}: local {weekday} {hour}:00 has {starts:?}");
            }
        }
    }
    assert_eq!(by_hour.len(), if expected.is_empty() { 47 } else { 48 }, "{tz}: only Saturday and Sunday hours");
}

#[test]
fn berlin_spring_forward_skips_local_two_oclock() {
    // 2026-03-29 02:00 CET (01:00Z) becomes 03:00 CEST.
    check_weekend(chrono_tz::Europe::Berlin, "2026-03-28", 2, &[]);
    let v = venue(chrono_tz::Europe::Berlin);
    assert_eq!(hour_used(&v, at("2026-03-29T00:45:00Z")), (Weekday::Sun, 1));
    assert_eq!(hour_used(&v, at("2026-03-29T01:00:00Z")), (Weekday::Sun, 3));
}

#[test]
fn berlin_fall_back_repeats_local_two_oclock() {
    // 2026-10-25 03:00 CEST (01:00Z) becomes 02:00 CET: 02:xx happens twice.
    let twice = [
        "2026-10-25T00:00:00Z",
        "2026-10-25T00:15:00Z",
        "2026-10-25T00:30:00Z",
        "2026-10-25T00:45:00Z",
        "2026-10-25T01:00:00Z",
        "2026-10-25T01:15:00Z",
        "2026-10-25T01:30:00Z",
        "2026-10-25T01:45:00Z",
    ];
    check_weekend(chrono_tz::Europe::Berlin, "2026-10-24", 2, &twice);
    let v = venue(chrono_tz::Europe::Berlin);
    assert_eq!(hour_used(&v, at("2026-10-24T23:45:00Z")), (Weekday::Sun, 1));
    assert_eq!(hour_used(&v, at("2026-10-25T02:00:00Z")), (Weekday::Sun, 3));
    // Eight windows, each with the capacity of local 02:00 (tag 6 * 24 + 2 + 1 = 147).
    assert!(twice.iter().all(|s| v.capacity_at(at(s)) == 147));
}

#[test]
fn new_york_spring_forward_skips_local_two_oclock() {
    // 2026-03-08 02:00 EST (07:00Z) becomes 03:00 EDT.
    check_weekend(chrono_tz::America::New_York, "2026-03-07", 2, &[]);
    let v = venue(chrono_tz::America::New_York);
    assert_eq!(hour_used(&v, at("2026-03-08T06:45:00Z")), (Weekday::Sun, 1));
    assert_eq!(hour_used(&v, at("2026-03-08T07:00:00Z")), (Weekday::Sun, 3));
}

#[test]
fn new_york_fall_back_repeats_local_one_oclock() {
    // 2026-11-01 02:00 EDT (06:00Z) becomes 01:00 EST: 01:xx happens twice.
    let twice = [
        "2026-11-01T05:00:00Z",
        "2026-11-01T05:15:00Z",
        "2026-11-01T05:30:00Z",
        "2026-11-01T05:45:00Z",
        "2026-11-01T06:00:00Z",
        "2026-11-01T06:15:00Z",
        "2026-11-01T06:30:00Z",
        "2026-11-01T06:45:00Z",
    ];
    check_weekend(chrono_tz::America::New_York, "2026-10-31", 1, &twice);
    let v = venue(chrono_tz::America::New_York);
    assert_eq!(hour_used(&v, at("2026-11-01T04:45:00Z")), (Weekday::Sun, 0));
    assert_eq!(hour_used(&v, at("2026-11-01T07:00:00Z")), (Weekday::Sun, 2));
}

#[test]
fn lord_howe_half_hour_shifts_give_six_and_two_windows() {
    // Australia/Lord_Howe moves by 30 minutes. 2026-04-05 02:00 +11 (15:00Z on the 4th)
    // becomes 01:30 +10:30: local 01:xx lasts 90 minutes (six windows).
    let v = venue(chrono_tz::Australia::Lord_Howe);
    let by_hour = windows_by_local_hour(&v, "2026-04-04".parse().unwrap());
    let six: Vec<_> = ["14:00", "14:15", "14:30", "14:45", "15:00", "15:15"]
        .iter()
        .map(|hm| at(&format!("2026-04-04T{hm}:00Z")))
        .collect();
    assert_eq!(by_hour[&(Weekday::Sun, 1)], six);
    assert_eq!(by_hour[&(Weekday::Sun, 2)].len(), 4);
    // 2026-10-04 02:00 +10:30 (15:30Z on the 3rd) becomes 02:30 +11: local 02:xx lasts
    // 30 minutes (two windows).
    let by_hour = windows_by_local_hour(&v, "2026-10-03".parse().unwrap());
    assert_eq!(by_hour[&(Weekday::Sun, 2)], [at("2026-10-03T15:30:00Z"), at("2026-10-03T15:45:00Z")]);
    assert_eq!(by_hour[&(Weekday::Sun, 1)].len(), 4);
    assert_eq!(by_hour[&(Weekday::Sun, 3)].len(), 4);
}

/// Over one local day in a zone without DST, every UTC window starts on a local quarter
/// hour and each local hour has exactly four windows.
fn check_fractional_offset_day(tz: Tz, date: &str) {
    let v = venue(tz);
    let date: NaiveDate = date.parse().unwrap();
    let from = local_midnight(tz, date);
    let to = local_midnight(tz, date + chrono::Days::new(1));
    let mut per_hour = HashMap::<(Weekday, u8), u32>::new();
    for start in window_starts_covering(from, to) {
        let local = start.with_timezone(&tz);
        assert_eq!(local.minute() % 15, 0, "{tz}: {start} is {local} locally");
        assert_eq!(local.second(), 0);
        let used = hour_used(&v, start);
        assert_eq!(used, (local.weekday(), local.hour() as u8), "{tz}: {start}");
        *per_hour.entry(used).or_default() += 1;
    }
    assert_eq!(per_hour.len(), 24, "{tz}");
    assert!(per_hour.values().all(|&n| n == 4), "{tz}: {per_hour:?}");
}

#[test]
fn kolkata_plus_five_thirty_aligns_to_quarter_hours() {
    check_fractional_offset_day(chrono_tz::Asia::Kolkata, "2026-11-28");
    let v = venue(chrono_tz::Asia::Kolkata);
    // 04:15Z = 09:45 IST, 04:30Z = 10:00 IST.
    assert_eq!(hour_used(&v, at("2026-11-28T04:15:00Z")), (Weekday::Sat, 9));
    assert_eq!(hour_used(&v, at("2026-11-28T04:30:00Z")), (Weekday::Sat, 10));
    // The local weekday counts: Friday 18:30Z is already Saturday 00:00 in India.
    assert_eq!(hour_used(&v, at("2026-11-27T18:15:00Z")), (Weekday::Fri, 23));
    assert_eq!(hour_used(&v, at("2026-11-27T18:30:00Z")), (Weekday::Sat, 0));
}

#[test]
fn kathmandu_plus_five_forty_five_aligns_to_quarter_hours() {
    check_fractional_offset_day(chrono_tz::Asia::Kathmandu, "2026-11-28");
    let v = venue(chrono_tz::Asia::Kathmandu);
    // 04:00Z = 09:45 NPT, 04:15Z = 10:00 NPT.
    assert_eq!(hour_used(&v, at("2026-11-28T04:00:00Z")), (Weekday::Sat, 9));
    assert_eq!(hour_used(&v, at("2026-11-28T04:15:00Z")), (Weekday::Sat, 10));
    assert_eq!(hour_used(&v, at("2026-11-27T18:00:00Z")), (Weekday::Fri, 23));
    assert_eq!(hour_used(&v, at("2026-11-27T18:15:00Z")), (Weekday::Sat, 0));
}

#[test]
fn capacity_is_a_quarter_of_slots_per_hour_rounded_down() {
    // The fixture schedule declares 4 * tag + 3 slots per hour: the 3 is rounded away.
    let v = venue(chrono_tz::UTC);
    assert_eq!(v.capacity_at(at("2026-11-28T21:00:00Z")), tag(Weekday::Sat, 21));
    assert_eq!(untag(tag(Weekday::Sun, 23)), (Weekday::Sun, 23));
}
