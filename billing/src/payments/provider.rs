//! The payment provider trait and its implementations (Stripe's webhook scheme first).
