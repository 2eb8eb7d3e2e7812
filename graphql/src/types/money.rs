use async_graphql::{InputObject, SimpleObject};

#[derive(SimpleObject)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

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
