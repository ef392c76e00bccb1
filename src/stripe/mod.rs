//! Stripe adapter (in progress): outgoing API client and webhook signature verification.
