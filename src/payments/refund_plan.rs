//! What the refund worker does for one debt, given the refunds Stripe already lists for
//! its payment intent: pure, so every case is tested without a network.
//!
//! A debt is settled only when the live refunds *for this payment intent* add up to what
//! is owed. An operator's partial refund from the Stripe dashboard (1.00 of 10.00) does
//! not settle it: the worker refunds the remainder, under an idempotency key of its own
//! (the amount already refunded is part of the key, so a retry after a lost answer finds
//! the same refund and a later remainder gets a fresh key).

use crate::stripe::Refund;

/// Refund statuses after which Stripe will not pay the money back.
const DEAD_STATUSES: [&str; 2] = ["failed", "canceled"];

/// The worker's next step for one debt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundPlan {
    /// The live refunds already cover the debt: record them.
    Settled { refund_ids: Vec<String>, refunded_minor: u64 },
    /// Refund `amount_minor` more (`None`: whatever the payment still has, for a debt
    /// of unknown amount); `counted` are the live refunds found so far.
    Refund { amount_minor: Option<u64>, counted: Vec<String>, counted_minor: u64 },
}

/// Plans one debt of `owed_minor` (`None` or 0: unknown, refund everything) for
/// `payment_intent`, from Stripe's listing of its refunds.
pub fn plan(owed_minor: Option<u64>, payment_intent: &str, listed: &[Refund]) -> RefundPlan {
    let live: Vec<&Refund> = listed.iter().filter(|r| counts_for(r, payment_intent)).collect();
    let counted: Vec<String> = live.iter().map(|r| r.id.clone()).collect();
    // A refund's amount is never negative; a missing one counts for nothing, so the
    // worst case is asking Stripe for too much, which it refuses (never a lost debt).
    let counted_minor: u64 = live.iter().map(|r| r.amount.and_then(|a| u64::try_from(a).ok()).unwrap_or(0)).sum();
    match owed_minor.filter(|owed| *owed > 0) {
        Some(owed) if counted_minor >= owed => {
            RefundPlan::Settled { refund_ids: counted, refunded_minor: counted_minor }
        }
        Some(owed) => RefundPlan::Refund { amount_minor: Some(owed - counted_minor), counted, counted_minor },
        None => RefundPlan::Refund { amount_minor: None, counted, counted_minor },
    }
}

/// True for a refund that pays back (part of) this payment intent's money.
fn counts_for(refund: &Refund, payment_intent: &str) -> bool {
    let alive = !refund.status.as_deref().is_some_and(|s| DEAD_STATUSES.contains(&s));
    alive && refund.payment_intent.as_deref() == Some(payment_intent)
}

/// The idempotency key of the refund that follows `counted_minor` already refunded.
/// The first refund keeps the key it always had, so a debt in flight across an upgrade
/// is not refunded twice.
pub fn idempotency_key(reservation_id: &str, payment_intent: &str, counted_minor: u64) -> String {
    match counted_minor {
        0 => format!("refund:{reservation_id}:{payment_intent}"),
        already => format!("refund:{reservation_id}:{payment_intent}:after:{already}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refund(id: &str, pi: Option<&str>, status: &str, amount: i64) -> Refund {
        Refund {
            id: id.into(),
            status: Some(status.into()),
            amount: Some(amount),
            currency: Some("eur".into()),
            payment_intent: pi.map(Into::into),
            metadata: Default::default(),
        }
    }

    #[test]
    fn nothing_listed_refunds_the_whole_debt() {
        let expected = RefundPlan::Refund { amount_minor: Some(1000), counted: vec![], counted_minor: 0 };
        assert_eq!(plan(Some(1000), "pi_1", &[]), expected);
    }

    #[test]
    fn a_full_refund_settles() {
        let listed = [refund("re_1", Some("pi_1"), "succeeded", 1000)];
        let expected = RefundPlan::Settled { refund_ids: vec!["re_1".into()], refunded_minor: 1000 };
        assert_eq!(plan(Some(1000), "pi_1", &listed), expected);
    }

    #[test]
    fn a_partial_refund_leaves_the_remainder() {
        let listed = [refund("re_op", Some("pi_1"), "succeeded", 100)];
        let expected =
            RefundPlan::Refund { amount_minor: Some(900), counted: vec!["re_op".into()], counted_minor: 100 };
        assert_eq!(plan(Some(1000), "pi_1", &listed), expected);
    }

    #[test]
    fn failed_canceled_and_foreign_refunds_do_not_count() {
        let listed = [
            refund("re_f", Some("pi_1"), "failed", 1000),
            refund("re_c", Some("pi_1"), "canceled", 1000),
            refund("re_x", Some("pi_other"), "succeeded", 1000),
            refund("re_n", None, "succeeded", 1000),
            refund("re_p", Some("pi_1"), "pending", 400),
        ];
        let expected = RefundPlan::Refund { amount_minor: Some(600), counted: vec!["re_p".into()], counted_minor: 400 };
        assert_eq!(plan(Some(1000), "pi_1", &listed), expected);
    }

    #[test]
    fn two_partial_refunds_that_add_up_settle() {
        let listed = [refund("re_1", Some("pi_1"), "succeeded", 100), refund("re_2", Some("pi_1"), "pending", 900)];
        let expected = RefundPlan::Settled { refund_ids: vec!["re_1".into(), "re_2".into()], refunded_minor: 1000 };
        assert_eq!(plan(Some(1000), "pi_1", &listed), expected);
    }

    #[test]
    fn an_unknown_debt_refunds_whatever_is_left() {
        let listed = [refund("re_1", Some("pi_1"), "succeeded", 100)];
        let expected = RefundPlan::Refund { amount_minor: None, counted: vec!["re_1".into()], counted_minor: 100 };
        assert_eq!(plan(None, "pi_1", &listed), expected);
        assert_eq!(plan(Some(0), "pi_1", &listed), expected);
    }

    #[test]
    fn keys_differ_per_remainder_and_the_first_is_unchanged() {
        assert_eq!(idempotency_key("r", "pi_1", 0), "refund:r:pi_1");
        assert_eq!(idempotency_key("r", "pi_1", 100), "refund:r:pi_1:after:100");
    }
}
