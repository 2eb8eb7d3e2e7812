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

/// The session the printed code is tried on: 400.00 EUR + 20 % VAT, within one code's 500 EUR.
pub const COVERED: super::billing::Priced<'static> = super::billing::Priced {
    title: "HACCP — classe virtuelle (bons de formation acceptés)",
    mode: spaces_tenants::editions::EnrolmentMode::SelfEnrolment,
    net_minor: 40_000,
};

/// What the seeding leaves: the funder's name, a code printed for a newcomer, and one that the
/// demo redeems itself.
pub struct Seeded {
    pub funder: String,
    pub to_try: String,
    pub redeemed: String,
}

/// Creates the funder and its batch.
pub async fn seed(
    tx: &TenantTx,
    admin: &Principal,
    key: &VoucherKey,
    now: DateTime<Utc>,
) -> anyhow::Result<Seeded> {
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
    let mut codes = made.codes.iter().map(|c| c.grouped());
    let (Some(to_try), Some(redeemed)) = (codes.next(), codes.next()) else {
        anyhow::bail!("the demo batch has fewer than two codes");
    };
    Ok(Seeded {
        funder: funder.name,
        to_try,
        redeemed,
    })
}
