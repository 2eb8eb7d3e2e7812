use async_graphql::{ID, InputObject, Object};
use spaces_billing::accounts::{AccountInput, BillingAccount};

#[derive(InputObject)]
pub struct BillingAccountInput {
    pub legal_name: String,
    pub address_line: String,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, such as FR.
    pub country: String,
    /// SIREN (9 digits) or SIRET (14 digits) in France.
    pub registration_number: Option<String>,
    /// Checked against the country's format (France: the key of the SIREN too).
    pub vat_number: Option<String>,
    pub invoice_email: String,
    /// ISO 4217: every invoice of this account is in it.
    pub currency: String,
}

impl From<BillingAccountInput> for AccountInput {
    fn from(i: BillingAccountInput) -> Self {
        Self {
            legal_name: i.legal_name,
            address_line: i.address_line,
            postcode: i.postcode,
            city: i.city,
            country: i.country,
            registration_number: i.registration_number,
            vat_number: i.vat_number,
            invoice_email: i.invoice_email,
            currency: i.currency,
        }
    }
}

pub struct BillingAccountGql(pub BillingAccount);

/// The paying side of an organisation: who invoices are addressed to.
#[Object(name = "BillingAccount")]
impl BillingAccountGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn organisation_id(&self) -> ID {
        ID(self.0.organisation.to_string())
    }
    async fn legal_name(&self) -> &str {
        &self.0.legal_name
    }
    async fn address_line(&self) -> &str {
        &self.0.address_line
    }
    async fn postcode(&self) -> &str {
        &self.0.postcode
    }
    async fn city(&self) -> &str {
        &self.0.city
    }
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn registration_number(&self) -> Option<&str> {
        self.0.registration_number.as_deref()
    }
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    async fn invoice_email(&self) -> &str {
        &self.0.invoice_email
    }
    async fn currency(&self) -> &str {
        self.0.currency.code()
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
}
