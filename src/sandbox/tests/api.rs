//! End-to-end tests of the API contract: routes, status codes and bodies, with latency off.

use serde_json::json;

use super::{call, login, open_invoices, quick};
#[tokio::test]
async fn login_list_pay_and_fetch_the_receipt() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    assert_eq!(sandbox.url(), format!("http://127.0.0.1:{}", addr.port()));
    let token = login(addr, 7).await;
    let (open, total) = open_invoices(addr, &token).await;
    assert!(total >= 4 && open.len() as u64 == total);
    let first = &open[0];
    let id = first["id"].as_str().expect("id");

    let paid = call(
        addr,
        "POST",
        &format!("/api/invoices/{id}/pay"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(paid.status, 202, "{}", paid.body);
    assert_eq!(paid.body["status"], "pending");
    assert_eq!(paid.body["invoice_id"], id);
    assert_eq!(paid.body["amount_cents"], first["amount_cents"]);
    // Latency is off, so the settlement is due the moment the answer left.
    let payment_id = paid.body["payment_id"].as_str().expect("payment_id");
    let payment = call(
        addr,
        "GET",
        &format!("/api/payments/{payment_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(payment.status, 200, "{}", payment.body);
    assert_eq!(payment.body["status"], "settled");
    assert_eq!(payment.body["receipt_id"], paid.body["receipt_id"]);

    let receipt_id = paid.body["receipt_id"].as_str().expect("receipt_id");
    let receipt = call(
        addr,
        "GET",
        &format!("/api/receipts/{receipt_id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert_eq!(receipt.body["invoice_id"], id);
    assert_eq!(receipt.body["payment_id"], paid.body["payment_id"]);
    assert_eq!(receipt.body["currency"], "EUR");
    assert_eq!(receipt.body["card_last4"], "4242");

    let other = login(addr, 8).await;
    let foreign = call(
        addr,
        "GET",
        &format!("/api/receipts/{receipt_id}"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(foreign.status, 404);
    let foreign = call(
        addr,
        "GET",
        &format!("/api/payments/{payment_id}"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(
        foreign.status, 404,
        "another customer's payment is not found"
    );
    let invoice = call(
        addr,
        "GET",
        &format!("/api/invoices/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(invoice.body["status"], "paid");
    sandbox.stop().await;
}

#[tokio::test]
async fn bad_credentials_and_missing_auth_are_401() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    for (email, password) in [
        ("customer1@example.com", "hunter3"),
        ("nobody@example.com", "hunter2"),
    ] {
        let body = json!({ "email": email, "password": password });
        let answer = call(addr, "POST", "/api/login", None, Some(body)).await;
        assert_eq!(
            (answer.status, answer.body),
            (401, json!({ "error": "invalid credentials" }))
        );
    }
    for token in [None, Some("tok_forged")] {
        let answer = call(addr, "GET", "/api/invoices", token, None).await;
        assert_eq!(
            (answer.status, answer.body),
            (401, json!({ "error": "unauthorized" }))
        );
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn paying_twice_conflicts_and_a_new_open_invoice_is_issued() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    let token = login(addr, 3).await;
    let (open, open_before) = open_invoices(addr, &token).await;
    let id = open[0]["id"].as_str().expect("id");
    let path = format!("/api/invoices/{id}/pay");
    let card = json!({ "card_id": "card_3" });
    assert_eq!(
        call(addr, "POST", &path, Some(&token), Some(card.clone()))
            .await
            .status,
        202
    );
    let again = call(addr, "POST", &path, Some(&token), Some(card)).await;
    assert_eq!(
        (again.status, again.body),
        (409, json!({ "error": "invoice already paid" }))
    );

    let (open_after, open_count) = open_invoices(addr, &token).await;
    assert_eq!(open_count, open_before, "one paid, one issued");
    assert!(open_after.iter().all(|invoice| invoice["id"] != id));
    let all = call(addr, "GET", "/api/invoices", Some(&token), None).await;
    assert_eq!(all.body["total"], 13);
    sandbox.stop().await;
}

#[tokio::test]
async fn listing_pages_in_due_date_order() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    let token = login(addr, 5).await;
    let page = |offset| {
        call(
            addr,
            "GET",
            format!("/api/invoices?limit=5&offset={offset}"),
            Some(&token),
            None,
        )
    };
    let (first, second) = (page(0).await.body, page(5).await.body);
    let dates: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|p| p["invoices"].as_array().into_iter().flatten())
        .map(|invoice| invoice["due_date"].as_str().expect("due_date"))
        .collect();
    assert_eq!(dates.len(), 10);
    assert!(dates.windows(2).all(|pair| pair[0] <= pair[1]), "{dates:?}");
    let bad = call(addr, "GET", "/api/invoices?status=void", Some(&token), None).await;
    assert_eq!(bad.status, 422);
    sandbox.stop().await;
}

#[tokio::test]
async fn search_hits_and_misses() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    let token = login(addr, 1).await;
    let search = |q: &'static str| {
        call(
            addr,
            "GET",
            format!("/api/invoices/search?q={q}"),
            Some(&token),
            None,
        )
    };
    let all = search("inv-2026").await;
    assert_eq!(all.body["count"], 12);
    let mut hits = 0;
    for word in ["hosting", "LICENSE", "fee", "hours", "rental", "plan"] {
        let answer = search(word).await;
        assert_eq!(answer.status, 200);
        for invoice in answer.body["results"].as_array().expect("results") {
            let description = invoice["description"]
                .as_str()
                .expect("description")
                .to_lowercase();
            assert!(
                description.contains(&word.to_lowercase()),
                "{description} for {word}"
            );
            hits += 1;
        }
    }
    assert!(hits > 0);
    assert_eq!(
        search("zebra").await.body,
        json!({ "count": 0, "results": [] })
    );
    assert_eq!(search("").await.status, 422);
    sandbox.stop().await;
}

#[tokio::test]
async fn cards_are_luhn_checked_and_branded() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    let token = login(addr, 2).await;
    let add = |number: &str, customer: &str| {
        let body = json!({ "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123" });
        call(
            addr,
            "POST",
            format!("/api/customers/{customer}/cards"),
            Some(&token),
            Some(body),
        )
    };
    let typo = add("4242424242424241", "cus_2").await;
    assert_eq!(typo.status, 422, "{}", typo.body);
    assert!(typo.body["error"].as_str().expect("error").contains("Luhn"));
    let visa = add("4242 4242 4242 4242", "cus_2").await;
    assert_eq!(visa.status, 201);
    assert_eq!(
        (&visa.body["brand"], &visa.body["last4"]),
        (&json!("visa"), &json!("4242"))
    );
    assert_eq!(
        add("5555555555554444", "cus_2").await.body["brand"],
        "mastercard"
    );
    assert_eq!(add("4242424242424242", "cus_3").await.status, 403);

    let me = call(addr, "GET", "/api/customers/cus_2", Some(&token), None).await;
    assert_eq!(me.body["cards"].as_array().map(Vec::len), Some(3));
    assert!(me.body.get("password").is_none());
    sandbox.stop().await;
}

#[tokio::test]
async fn signup_and_invoice_creation_validate() {
    let sandbox = quick().await;
    let addr = sandbox.addr();
    let new = json!({ "email": "ada@example.com", "name": "Ada", "password": "pw" });
    let created = call(addr, "POST", "/api/customers", None, Some(new.clone())).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        call(addr, "POST", "/api/customers", None, Some(new))
            .await
            .status,
        409
    );
    let missing = call(
        addr,
        "POST",
        "/api/customers",
        None,
        Some(json!({ "email": "x@y.z", "name": "" })),
    )
    .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body["error"].is_string());

    let token = login(addr, 4).await;
    let invoice = json!({ "amount_cents": 1200, "currency": "eur", "description": "Setup fee" });
    let made = call(addr, "POST", "/api/invoices", Some(&token), Some(invoice)).await;
    assert_eq!(
        (made.status, &made.body["status"], &made.body["currency"]),
        (201, &json!("open"), &json!("EUR"))
    );
    let zero = json!({ "amount_cents": 0, "currency": "EUR", "description": "x" });
    assert_eq!(
        call(addr, "POST", "/api/invoices", Some(&token), Some(zero))
            .await
            .status,
        422
    );
    let foreign = call(addr, "GET", "/api/invoices/inv_1", Some(&token), None).await;
    assert_eq!(foreign.status, 404, "inv_1 belongs to cus_1");
    let unknown_card = json!({ "card_id": "card_1" });
    let id = made.body["id"].as_str().expect("id");
    let pay = call(
        addr,
        "POST",
        &format!("/api/invoices/{id}/pay"),
        Some(&token),
        Some(unknown_card),
    )
    .await;
    assert_eq!(
        (pay.status, pay.body),
        (422, json!({ "error": "unknown card" }))
    );
    let nowhere = call(addr, "GET", "/nowhere", None, None).await;
    assert_eq!(
        (nowhere.status, nowhere.body),
        (404, json!({ "error": "not found" }))
    );
    sandbox.stop().await;
}
