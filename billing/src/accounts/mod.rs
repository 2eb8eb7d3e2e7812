//! Billing accounts: legal name, address, registration and VAT numbers, invoice email, currency.

pub(crate) mod entity;
