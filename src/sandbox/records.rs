//! The records the store keeps, the JSON shapes they serialize to, and their small domain rules.

use serde::{Deserialize, Serialize};

/// 2026-01-01 as days since 1970-01-01; seeded due dates fall in the months after it.
pub(super) const JAN_1_2026: i64 = 20_454;

/// What invoices are for; a small vocabulary so that searches both hit and miss.
pub(super) const DESCRIPTIONS: &[&str] = &[
    "Hosting March",
    "Hosting April",
    "Consulting hours",
    "Annual license",
    "Card terminal rental",
    "Support plan",
    "Domain renewal",
    "Training workshop",
    "Cloud storage",
    "Setup fee",
    "Maintenance contract",
    "Data migration",
];

/// Whether an invoice still waits for a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Status {
    Open,
    Paid,
}

/// A bill owed by one customer; serializes to the API's invoice object.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Invoice {
    pub id: String,
    pub number: String,
    pub amount_cents: i64,
    pub currency: String,
    pub status: Status,
    pub due_date: String,
    pub description: String,
    #[serde(skip)]
    pub customer: u64,
    #[serde(skip)]
    pub due_day: i64,
    /// Lowercased description and number, so a search allocates nothing per invoice.
    #[serde(skip)]
    pub search_text: [String; 2],
}

impl Invoice {
    /// A new invoice numbered `seq`, with its id, number and search text derived.
    pub(super) fn new(
        seq: u64,
        customer: u64,
        amount_cents: i64,
        currency: &str,
        description: &str,
        due_day: i64,
    ) -> Self {
        let number = format!("INV-2026-{seq:06}");
        Self {
            id: format!("inv_{seq}"),
            search_text: [description.to_lowercase(), number.to_lowercase()],
            number,
            amount_cents,
            currency: currency.to_string(),
            status: Status::Open,
            due_date: date(due_day),
            description: description.to_string(),
            customer,
            due_day,
        }
    }
}

/// Card networks told apart by the number's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Brand {
    Visa,
    Mastercard,
    Amex,
    Other,
}

/// A card on file; only the brand and last four digits are kept, as a real PSP would.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Card {
    pub id: String,
    pub brand: Brand,
    pub last4: String,
    #[serde(skip)]
    pub customer: u64,
}

/// A customer as the API shows it: never the password.
#[derive(Clone, Debug, Serialize)]
pub(super) struct CustomerView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub cards: Vec<Card>,
}

/// A payment as the API shows it: accepted at once, settled later.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Payment {
    pub payment_id: String,
    pub receipt_id: String,
    pub invoice_id: String,
    pub status: Settlement,
    pub amount_cents: i64,
}

/// Where an accepted payment is: like a card network's, settlement comes after the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Settlement {
    Pending,
    Settled,
}

/// Proof of a payment, fetched later by id.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Receipt {
    pub id: String,
    pub invoice_id: String,
    pub payment_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub paid_at: String,
    pub card_last4: String,
    #[serde(skip)]
    pub customer: u64,
}

/// Whether `digits` is all digits and passes the Luhn checksum.
pub(super) fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (position, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if position % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// The network a card number belongs to, by its issuer prefix.
pub(super) fn brand(digits: &str) -> Brand {
    let prefix = |n: usize| {
        digits
            .get(..n)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    match (prefix(1), prefix(2), prefix(4)) {
        (4, _, _) => Brand::Visa,
        (_, 51..=55, _) | (_, _, 2221..=2720) => Brand::Mastercard,
        (_, 34 | 37, _) => Brand::Amex,
        _ => Brand::Other,
    }
}

/// `YYYY-MM-DD` for a count of days since 1970-01-01 (Hinnant's civil-from-days).
pub(super) fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, for receipts.
pub(super) fn now_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let of_day = seconds % 86_400;
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let (h, m, s) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    format!("{}T{h:02}:{m:02}:{s:02}Z", date(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_typos() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("5555555555554444"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid("1234567812345678"));
        assert!(!luhn_valid("42424242424242x2"));
    }

    #[test]
    fn brand_follows_issuer_prefixes() {
        assert_eq!(brand("4242424242424242"), Brand::Visa);
        assert_eq!(brand("5555555555554444"), Brand::Mastercard);
        assert_eq!(brand("2223003122003222"), Brand::Mastercard);
        assert_eq!(brand("378282246310005"), Brand::Amex);
        assert_eq!(brand("6011111111111117"), Brand::Other);
    }

    #[test]
    fn dates_convert_from_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(JAN_1_2026), "2026-01-01");
        assert_eq!(date(JAN_1_2026 + 59), "2026-03-01");
        assert_eq!(date(JAN_1_2026 + 365), "2027-01-01");
        assert_eq!(date(11_016), "2000-02-29");
    }
}
