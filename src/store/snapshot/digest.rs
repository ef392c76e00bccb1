//! The state digest: one SHA-256 over every window's canonical encoding.
//!
//! A window's canonical form is its snapshot encoding (`WindowSnapV1`, postcard), which
//! holds everything its behaviour depends on and nothing incidental (no derived
//! counters, no timers). The replay tool and the running service both compute it, so
//! "same digest" means "same state", window for window, without shipping the state.

use sha2::{Digest, Sha256};

use super::convert::window_to_wire;
use crate::domain::Window;

/// Digest of windows given in key order (the caller sorts; a `BTreeMap` does).
pub fn state_digest<'a>(windows: impl IntoIterator<Item = &'a Window>) -> String {
    let mut hasher = Sha256::new();
    let mut count: u64 = 0;
    for window in windows {
        // The refund states a V2 snapshot adds are part of the state too, and so is the
        // waitlist state of V3 (only where there is one, so that the digest of a window
        // without a waitlist is what it was before waitlists existed).
        let canonical = (window_to_wire(window), super::convert_refunds::refund_states(window));
        let bytes = match super::convert_waitlist::waitlist_state(window) {
            None => postcard::to_stdvec(&canonical),
            Some(waitlist) => postcard::to_stdvec(&(canonical, waitlist)),
        };
        let bytes = bytes.expect("postcard encodes every wire type");
        // Length-prefixed, so the concatenation of two windows is never ambiguous.
        let len = u64::try_from(bytes.len()).expect("a window's encoding fits in u64");
        hasher.update(len.to_le_bytes());
        hasher.update(&bytes);
        count += 1;
    }
    hasher.update(count.to_le_bytes());
    hex::encode(hasher.finalize())
}
