//! Money on the wire: `{ amountMinor, currency }` everywhere, integer minor units and an ISO 4217
//! code. One output type and one input type, shared by every billing area.

use async_graphql::{InputObject, SimpleObject};

use crate::error::{ApiError, ApiResult};

/// An amount in integer minor units (cents for EUR) of an ISO 4217 currency.
#[derive(SimpleObject)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

/// An amount as a client gives it: integer minor units and an ISO 4217 code.
#[derive(InputObject)]
pub struct MoneyInput {
    pub amount_minor: i64,
    pub currency: String,
}

impl From<spaces_billing::Money> for Money {
    fn from(m: spaces_billing::Money) -> Self {
        Self {
            amount_minor: m.amount_minor(),
            currency: m.currency().code().to_owned(),
        }
    }
}

impl MoneyInput {
    /// The amount, its currency checked; `field` names the input (`price`) in the error, as
    /// `price.currency`.
    pub fn parse(&self, field: &str) -> ApiResult<spaces_billing::Money> {
        let currency =
            spaces_billing::Currency::parse("currency", self.currency.trim()).map_err(|_| {
                ApiError::bad_input(
                    &format!("{field}.currency"),
                    "must be a supported ISO 4217 code",
                )
            })?;
        Ok(spaces_billing::Money::new(self.amount_minor, currency))
    }
}
