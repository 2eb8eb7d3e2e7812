//! Billing's typed ids, from the same macro as every other id.

spaces_tenants::typed_id!(
    BillingAccountId,
    PlanId,
    SubscriptionId,
    ChargeId,
    InvoiceId,
    InvoiceLineId,
    LedgerTransactionId,
    LedgerEntryId,
    PaymentId,
    FunderId,
    VoucherBatchId,
    VoucherId,
    RedemptionId,
    EnrolmentPaymentId,
);
