//! The in-memory payments data and every read or change made to it; no HTTP, no waiting.

use std::collections::{BTreeSet, HashMap};

use super::records::{
    Brand, Card, CustomerView, Invoice, JAN_1_2026, Payment, Receipt, Settlement, Status, brand,
    now_utc,
};
use super::seed::{random_amount, random_description};

/// Invoices created through the API fall due a month after the sandbox's notional today.
const TODAY: i64 = JAN_1_2026 + 151;
const BILLING_CYCLE_DAYS: i64 = 30;

/// Why the store said no; the API layer maps each to a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    InvalidCredentials,
    EmailTaken,
    UnknownInvoice,
    AlreadyPaid,
    UnknownCard,
}

#[derive(Debug)]
struct Customer {
    email: String,
    name: String,
    password: String,
    cards: Vec<u64>,
    /// Keys `(due_day, invoice seq)`: the listing order, kept sorted as invoices arrive.
    invoices: BTreeSet<(i64, u64)>,
}

/// The seeded data in table form, see [`Store::ledger`].
pub(super) struct Ledger {
    pub customers: Vec<(String, String, String)>,
    pub cards: Vec<(String, String, String, String)>,
    pub invoices: Vec<Invoice>,
}

/// All sandbox data; callers hold its mutex only for one of these calls.
#[derive(Debug, Default)]
pub(super) struct Store {
    customers: HashMap<u64, Customer>,
    /// Lowercased email to customer, so sign-up and login ignore case.
    emails: HashMap<String, u64>,
    tokens: HashMap<String, u64>,
    cards: HashMap<u64, Card>,
    invoices: HashMap<u64, Invoice>,
    receipts: HashMap<u64, Receipt>,
    /// When each payment settles (by payment number, like its receipt).
    settles_at: HashMap<u64, tokio::time::Instant>,
    last_customer: u64,
    last_card: u64,
    last_invoice: u64,
    last_payment: u64,
}

impl Store {
    /// Checks credentials and issues a fresh token for them.
    pub(super) fn login(
        &mut self,
        email: &str,
        password: &str,
        rng: &mut fastrand::Rng,
    ) -> Result<(String, u64), Refusal> {
        let id = *self
            .emails
            .get(&email.trim().to_lowercase())
            .ok_or(Refusal::InvalidCredentials)?;
        let customer = self.customers.get(&id).ok_or(Refusal::InvalidCredentials)?;
        if customer.password != password {
            return Err(Refusal::InvalidCredentials);
        }
        let token: String = format!(
            "tok_{}",
            (0..24).map(|_| rng.alphanumeric()).collect::<String>()
        );
        self.tokens.insert(token.clone(), id);
        Ok((token, id))
    }

    /// The customer a bearer token belongs to.
    pub(super) fn authenticate(&self, token: &str) -> Option<u64> {
        self.tokens.get(token).copied()
    }

    /// Registers a customer; emails are unique regardless of case.
    pub(super) fn signup(
        &mut self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<CustomerView, Refusal> {
        if self.emails.contains_key(&email.to_lowercase()) {
            return Err(Refusal::EmailTaken);
        }
        let id = self.insert_customer(email, name, password);
        Ok(CustomerView {
            id: format!("cus_{id}"),
            email: email.to_string(),
            name: name.to_string(),
            cards: Vec::new(),
        })
    }

    /// A customer with their cards on file.
    pub(super) fn customer(&self, id: u64) -> Option<CustomerView> {
        let customer = self.customers.get(&id)?;
        Some(CustomerView {
            id: format!("cus_{id}"),
            email: customer.email.clone(),
            name: customer.name.clone(),
            cards: customer
                .cards
                .iter()
                .filter_map(|c| self.cards.get(c))
                .cloned()
                .collect(),
        })
    }

    /// Keeps a validated card number as brand and last four digits.
    pub(super) fn add_card(&mut self, customer: u64, digits: &str) -> Card {
        let last4 = digits
            .get(digits.len().saturating_sub(4)..)
            .unwrap_or(digits);
        self.insert_card(customer, self.last_card + 1, brand(digits), last4)
    }

    /// One page of a customer's invoices in `(due_date, id)` order, and how many match in all.
    pub(super) fn list_invoices(
        &self,
        customer: u64,
        status: Option<Status>,
        offset: usize,
        limit: usize,
    ) -> (Vec<Invoice>, usize) {
        let matching = self
            .invoices_of(customer)
            .filter(|invoice| status.is_none_or(|s| invoice.status == s));
        let mut total = 0;
        let mut page = Vec::with_capacity(limit.min(100));
        for invoice in matching {
            if total >= offset && page.len() < limit {
                page.push(invoice.clone());
            }
            total += 1;
        }
        (page, total)
    }

    /// A customer's invoices whose description or number contains `needle` (already lowercased).
    pub(super) fn search_invoices(&self, customer: u64, needle: &str) -> Vec<Invoice> {
        self.invoices_of(customer)
            .filter(|invoice| invoice.search_text.iter().any(|text| text.contains(needle)))
            .cloned()
            .collect()
    }

    /// Issues a new open invoice to `customer`.
    pub(super) fn create_invoice(
        &mut self,
        customer: u64,
        amount_cents: i64,
        currency: &str,
        description: &str,
    ) -> Invoice {
        self.issue(
            customer,
            amount_cents,
            currency,
            description,
            TODAY + BILLING_CYCLE_DAYS,
        )
        .clone()
    }

    /// One of the customer's invoices by id; others' invoices do not exist for them.
    pub(super) fn invoice(&self, customer: u64, id: &str) -> Option<Invoice> {
        let invoice = self.invoices.get(&parse_id("inv_", id)?)?;
        (invoice.customer == customer).then(|| invoice.clone())
    }

    /// Pays an open invoice with a card on file, then bills the next cycle.
    /// Pays an invoice: the payment is accepted now (the invoice is paid, its receipt
    /// issued) and settles at `settles_at(its payment number)`.
    pub(super) fn pay(
        &mut self,
        customer: u64,
        invoice_id: &str,
        card_id: Option<&str>,
        settles_at: impl FnOnce(u64) -> tokio::time::Instant,
        rng: &mut fastrand::Rng,
    ) -> Result<Payment, Refusal> {
        let seq = parse_id("inv_", invoice_id).ok_or(Refusal::UnknownInvoice)?;
        let invoice = self
            .invoices
            .get(&seq)
            .filter(|i| i.customer == customer)
            .ok_or(Refusal::UnknownInvoice)?;
        if invoice.status == Status::Paid {
            return Err(Refusal::AlreadyPaid);
        }
        let card = match card_id {
            Some(id) => parse_id("card_", id)
                .and_then(|c| self.cards.get(&c))
                .filter(|c| c.customer == customer),
            None => self
                .customers
                .get(&customer)
                .and_then(|c| c.cards.first())
                .and_then(|c| self.cards.get(c)),
        }
        .ok_or(Refusal::UnknownCard)?;
        self.last_payment += 1;
        let n = self.last_payment;
        let receipt = Receipt {
            id: format!("rcp_{n}"),
            invoice_id: invoice.id.clone(),
            payment_id: format!("pay_{n}"),
            amount_cents: invoice.amount_cents,
            currency: invoice.currency.clone(),
            paid_at: now_utc(),
            card_last4: card.last4.clone(),
            customer,
        };
        let payment = Payment {
            payment_id: receipt.payment_id.clone(),
            receipt_id: receipt.id.clone(),
            invoice_id: receipt.invoice_id.clone(),
            status: Settlement::Pending,
            amount_cents: receipt.amount_cents,
        };
        self.settles_at.insert(n, settles_at(n));
        let next_due = invoice.due_day + BILLING_CYCLE_DAYS;
        let currency = receipt.currency.clone();
        self.receipts.insert(n, receipt);
        if let Some(invoice) = self.invoices.get_mut(&seq) {
            invoice.status = Status::Paid;
        }
        // Like a billing cycle: a long load test must never run out of open invoices.
        let (amount, description) = (random_amount(rng), random_description(rng));
        self.issue(customer, amount, &currency, description, next_due);
        Ok(payment)
    }

    /// One of the customer's payments by id, settled once its time has come.
    pub(super) fn payment(
        &self,
        customer: u64,
        id: &str,
        now: tokio::time::Instant,
    ) -> Option<Payment> {
        let n = parse_id("pay_", id)?;
        let receipt = self.receipts.get(&n).filter(|r| r.customer == customer)?;
        let settled = self.settles_at.get(&n).is_none_or(|at| now >= *at);
        Some(Payment {
            payment_id: receipt.payment_id.clone(),
            receipt_id: receipt.id.clone(),
            invoice_id: receipt.invoice_id.clone(),
            status: if settled {
                Settlement::Settled
            } else {
                Settlement::Pending
            },
            amount_cents: receipt.amount_cents,
        })
    }

    /// One of the customer's receipts by id.
    pub(super) fn receipt(&self, customer: u64, id: &str) -> Option<Receipt> {
        let receipt = self.receipts.get(&parse_id("rcp_", id)?)?;
        (receipt.customer == customer).then(|| receipt.clone())
    }

    fn invoices_of(&self, customer: u64) -> impl Iterator<Item = &Invoice> + '_ {
        self.customers
            .get(&customer)
            .into_iter()
            .flat_map(|c| c.invoices.iter())
            .filter_map(|(_, seq)| self.invoices.get(seq))
    }

    /// Every customer (id, email, name), card (id, customer id, brand, last four) and
    /// invoice, in number order: what `--ledger` writes.
    pub(super) fn ledger(&self) -> Ledger {
        let mut customers: Vec<_> = self
            .customers
            .iter()
            .map(|(id, c)| (format!("cus_{id}"), c.email.clone(), c.name.clone()))
            .collect();
        customers.sort_by_key(|c| parse_id("cus_", &c.0));
        let mut cards: Vec<_> = self
            .cards
            .values()
            .map(|c| {
                let brand = serde_json::to_value(c.brand)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                (
                    c.id.clone(),
                    format!("cus_{}", c.customer),
                    brand,
                    c.last4.clone(),
                )
            })
            .collect();
        cards.sort_by_key(|c| parse_id("card_", &c.0));
        let mut invoices: Vec<Invoice> = self.invoices.values().cloned().collect();
        invoices.sort_by_key(|i| parse_id("inv_", &i.id));
        Ledger {
            customers,
            cards,
            invoices,
        }
    }

    /// Adds a customer without cards or invoices and returns their number.
    pub(super) fn insert_customer(&mut self, email: &str, name: &str, password: &str) -> u64 {
        self.last_customer += 1;
        let id = self.last_customer;
        let customer = Customer {
            email: email.to_string(),
            name: name.to_string(),
            password: password.to_string(),
            cards: Vec::new(),
            invoices: BTreeSet::new(),
        };
        self.customers.insert(id, customer);
        self.emails.insert(email.to_lowercase(), id);
        id
    }

    /// Files card number `seq` under `customer`; later cards are numbered after the highest.
    pub(super) fn insert_card(
        &mut self,
        customer: u64,
        seq: u64,
        brand: Brand,
        last4: &str,
    ) -> Card {
        self.last_card = self.last_card.max(seq);
        let card = Card {
            id: format!("card_{seq}"),
            brand,
            last4: last4.to_string(),
            customer,
        };
        self.cards.insert(seq, card.clone());
        if let Some(c) = self.customers.get_mut(&customer) {
            c.cards.push(seq);
        }
        card
    }

    /// Adds an open invoice with the next number and files it under its customer.
    pub(super) fn issue(
        &mut self,
        customer: u64,
        amount_cents: i64,
        currency: &str,
        description: &str,
        due_day: i64,
    ) -> &mut Invoice {
        self.last_invoice += 1;
        let seq = self.last_invoice;
        if let Some(c) = self.customers.get_mut(&customer) {
            c.invoices.insert((due_day, seq));
        }
        let invoice = Invoice::new(seq, customer, amount_cents, currency, description, due_day);
        self.invoices.entry(seq).or_insert(invoice)
    }
}

/// `cus_7` → 7 for the expected prefix; anything else is not an id we issued.
pub(super) fn parse_id(prefix: &str, id: &str) -> Option<u64> {
    id.strip_prefix(prefix)?.parse().ok()
}
