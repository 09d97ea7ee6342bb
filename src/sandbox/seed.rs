//! The start-of-day data set: who the customers are and what they owe, identical for a seed.

use super::records::{Brand, DESCRIPTIONS, JAN_1_2026, Status};
use super::state::Store;

/// Seeded customers: `customer1@example.com` … `customer1000@example.com`, enough that a
/// sequential feeder at a few hundred iterations per second never has one customer in two
/// iterations at once (two would race for the same open invoice).
const CUSTOMERS: u64 = 1000;
/// Invoices seeded per customer; the first `ALWAYS_OPEN` of them stay open.
const INVOICES: u64 = 12;
const ALWAYS_OPEN: u64 = 4;
/// Share of the other invoices that are already paid.
const PAID_SHARE: f64 = 0.7;
/// The password of every seeded customer.
pub(super) const PASSWORD: &str = "hunter2";

/// A store filled with the seeded customers, their default cards and their invoices.
pub(super) fn seeded_store(seed: u64) -> Store {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut store = Store::default();
    for n in 1..=CUSTOMERS {
        let email = format!("customer{n}@example.com");
        let id = store.insert_customer(&email, &format!("Customer {n}"), PASSWORD);
        // Card ids match their customer (`card_7` for `cus_7`) so scenarios can name them.
        store.insert_card(id, n, Brand::Visa, "4242");
        for i in 0..INVOICES {
            let due_day = JAN_1_2026 + rng.i64(0..180);
            let (amount, description) = (random_amount(&mut rng), random_description(&mut rng));
            let invoice = store.issue(id, amount, "EUR", description, due_day);
            if i >= ALWAYS_OPEN && rng.f64() < PAID_SHARE {
                invoice.status = Status::Paid;
            }
        }
    }
    store
}

/// An invoice amount between 5 EUR and 2,500 EUR, in cents.
pub(super) fn random_amount(rng: &mut fastrand::Rng) -> i64 {
    rng.i64(500..=250_000)
}

/// A description from the vocabulary that searches run against.
pub(super) fn random_description(rng: &mut fastrand::Rng) -> &'static str {
    DESCRIPTIONS[rng.usize(..DESCRIPTIONS.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_customer_can_log_in_and_owes_twelve_invoices_four_open() {
        let mut store = seeded_store(42);
        let mut rng = fastrand::Rng::with_seed(1);
        for n in 1..=CUSTOMERS {
            let email = format!("customer{n}@example.com");
            let (_, id) = store
                .login(&email, PASSWORD, &mut rng)
                .expect("seeded login");
            let (_, total) = store.list_invoices(id, None, 0, 100);
            let (_, open) = store.list_invoices(id, Some(Status::Open), 0, 100);
            assert_eq!(total, 12);
            assert!(open >= 4, "customer {n} has {open} open");
            let customer = store.customer(id).expect("customer");
            assert_eq!(customer.cards[0].id, format!("card_{n}"));
        }
        assert!(
            store
                .login("customer1001@example.com", PASSWORD, &mut rng)
                .is_err()
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let page = |seed| {
            let (invoices, _) = seeded_store(seed).list_invoices(9, None, 0, 100);
            invoices
                .iter()
                .map(|i| (i.id.clone(), i.amount_cents))
                .collect::<Vec<_>>()
        };
        assert_eq!(page(42), page(42));
        assert_ne!(page(42), page(43));
    }

    #[test]
    fn paying_bills_the_next_cycle_and_hides_others_records() {
        let mut store = seeded_store(42);
        let mut rng = fastrand::Rng::with_seed(1);
        let (open, _) = store.list_invoices(1, Some(Status::Open), 0, 1);
        let paid = &open[0];
        let payment = store
            .pay(1, &paid.id, None, |_| tokio::time::Instant::now(), &mut rng)
            .expect("pay");
        let (all, total) = store.list_invoices(1, None, 0, 100);
        assert_eq!(total, 13);
        let newest = all
            .iter()
            .find(|i| i.id == "inv_12001")
            .expect("next invoice");
        assert_eq!(newest.status, Status::Open);
        assert_eq!(newest.due_day, paid.due_day + 30);
        assert!(store.receipt(1, &payment.receipt_id).is_some());
        assert!(store.receipt(2, &payment.receipt_id).is_none());
        assert!(store.invoice(2, &paid.id).is_none());
        assert!(
            store
                .pay(2, &paid.id, None, |_| tokio::time::Instant::now(), &mut rng)
                .is_err()
        );
    }
}
