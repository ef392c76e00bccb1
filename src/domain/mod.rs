//! The pure core of qskip: venues, schedules, windows, commands, events and rejections.
//!
//! Nothing here performs I/O, reads a clock, spawns a task or knows about actix or
//! sled. Time is always an argument (`now`). A [`Window`] is the fold of its events:
//! [`Window::decide`] turns a command into events or a [`Rejection`], and
//! [`Window::apply`] folds one event in and cannot fail. The same `apply` serves live
//! traffic, recovery and the replay tool, so there is exactly one way state is built.

mod audit;
mod booking;
mod checkout;
mod command;
mod event;
mod filter;
mod ids;
mod operator;
mod payment;
mod placement;
mod reach;
mod refund;
mod rejection;
mod reservation;
mod restore;
mod schedule;
mod text;
mod venue;
mod waitlist;
mod window;
mod window_compact_map;
mod window_expiry;
mod window_reservations;

pub use audit::Violation;
pub use booking::{ReserveRequest, resolve_window_start};
pub use checkout::Checkout;
pub use command::Command;
pub use event::{VenueEvent, WindowEvent};
pub use filter::WindowFilter;
pub use ids::{IdError, ReservationId, VenueId, WindowKey};
pub use operator::Operator;
pub use payment::{Amount, Payment, Price, PriceHistory, RefundReason};
pub use reach::{OutOfReach, within_reach};
pub use refund::RefundFailure;
pub use rejection::Rejection;
pub use reservation::{Refund, Reservation, ReservationStatus, ReservationView};
pub use restore::RestoreError;
pub use schedule::{HourOverride, Schedule, ScheduleError, is_window_aligned, window_start_of, window_starts_covering};
pub use text::has_unsafe_chars;
pub use venue::{Venue, VenueError};
pub use waitlist::{Waitlist, WaitlistEntry};
pub use window::{Window, WindowCounts};
