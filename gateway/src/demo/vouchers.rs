//! The demo's funder: a sector training fund with its own organisation and billing account,
//! and a batch of 20 codes of 500 EUR. One code is printed at start-up for a newcomer to try;
//! the others exist only as hashes (their plaintext is dropped here, as a funder would keep it).

use chrono::{DateTime, Duration, Utc};
use spaces_billing::accounts::{self, AccountInput};
use spaces_billing::funders::{self, FunderRequest};
use spaces_billing::vouchers::VoucherKey;
use spaces_billing::vouchers::batch::{self, BatchRequest, Restrictions, Value};
use spaces_billing::{Currency, Money};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::{Principal, TenantTx};

/// Codes in the demo batch, and what each covers (minor units of EUR).
pub const CODES: u32 = 20;
pub const FACE_VALUE_MINOR: i64 = 50_000;

/// Creates the funder and its batch; returns the funder's name and one code to try.
pub async fn seed(
    tx: &TenantTx,
    admin: &Principal,
    key: &VoucherKey,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    let funder = funders::create_as(
        tx,
        admin,
        now,
        FunderRequest {
            name: "Fonds formation agroalimentaire".into(),
            kind: FunderKind::SectorFund,
            contact_name: "Nadia Benali".into(),
            contact_email: "nadia@fonds-agro.localhost".into(),
            organisation: None,
        },
    )
    .await?;
    // Its invoices go to this account, in the monthly run after each redemption.
    accounts::create(
        tx,
        admin,
        now,
        funder.organisation,
        AccountInput {
            legal_name: funder.name.clone(),
            address_line: "3 place de la Bourse".into(),
            postcode: "75002".into(),
            city: "Paris".into(),
            country: "FR".into(),
            registration_number: None,
            vat_number: None,
            invoice_email: "factures@fonds-agro.localhost".into(),
            currency: "EUR".into(),
        },
    )
    .await?;
    let eur = Currency::parse("currency", "EUR")?;
    let made = batch::create_as(
        tx,
        admin,
        key,
        now,
        BatchRequest {
            funder: funder.id,
            name: "Demo: 500 EUR training vouchers".into(),
            count: CODES,
            value: Value::Face(Money::new(FACE_VALUE_MINOR, eur)),
            min_learner_share: None,
            valid_from: now,
            valid_until: now + Duration::days(365),
            uses_per_code: 1,
            restrictions: Restrictions::default(),
        },
    )
    .await?;
    let code = made
        .codes
        .first()
        .map(|c| c.grouped())
        .ok_or_else(|| anyhow::anyhow!("the demo batch has no code"))?;
    Ok((funder.name, code))
}
