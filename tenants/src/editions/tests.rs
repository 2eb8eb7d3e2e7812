use super::*;

fn field(e: Error) -> String {
    match e {
        Error::Invalid { field, .. } => field.into_owned(),
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn status_moves_forward_and_reopens() {
    use EditionStatus::*;
    let ok = |from: EditionStatus, to: EditionStatus| to.reachable_from().contains(&from);
    assert!(ok(Draft, Open) && ok(Open, Closed) && ok(Closed, Archived));
    assert!(ok(Draft, Archived) && ok(Closed, Open));
    assert!(!ok(Open, Draft) && !ok(Open, Archived) && !ok(Archived, Open));
    assert!(!ok(Archived, Closed) && !ok(Closed, Draft) && !ok(Open, Open));
}

#[test]
fn price_is_exactly_one_of_two() {
    assert_eq!(
        price(Some((0, "EUR".into())), None).unwrap(),
        Some(Price::PerSeat(Money::new(0, Currency::EUR)))
    );
    assert_eq!(
        price(None, Some(true)).unwrap(),
        Some(Price::IncludedInSubscription)
    );
    assert_eq!(price(None, None).unwrap(), None);
    assert!(price(Some((10, "EUR".into())), Some(false)).is_ok());
    assert_eq!(
        field(price(Some((1, "EUR".into())), Some(true)).unwrap_err()),
        "price"
    );
    assert_eq!(field(price(None, Some(false)).unwrap_err()), "price");
    assert_eq!(
        field(price(Some((-1, "EUR".into())), None).unwrap_err()),
        "price.amountMinor"
    );
    assert_eq!(
        field(price(Some((1, "eur".into())), None).unwrap_err()),
        "price.currency"
    );
}

#[test]
fn visibility_needs_organisations_only_when_restricted() {
    let a = OrganisationId::new();
    let b = OrganisationId::new();
    assert_eq!(visibility(None, None).unwrap(), None);
    assert_eq!(
        visibility(Some(VisibilityKind::WholeTenant), Some(vec![])).unwrap(),
        Some(Visibility::WholeTenant)
    );
    assert_eq!(
        visibility(Some(VisibilityKind::Organisations), Some(vec![a, b, a])).unwrap(),
        Some(Visibility::Organisations(vec![a, b]))
    );
    assert_eq!(
        field(visibility(Some(VisibilityKind::Organisations), None).unwrap_err()),
        "visibleTo"
    );
    assert_eq!(
        field(visibility(Some(VisibilityKind::WholeTenant), Some(vec![a])).unwrap_err()),
        "visibleTo"
    );
    // Organisations reach their whole subtree.
    let v = Visibility::Organisations(vec![b]);
    assert!(v.reaches(&[a, b, OrganisationId::new()]));
    assert!(!v.reaches(&[a]));
    assert!(Visibility::WholeTenant.reaches(&[]));
}

#[test]
fn dates_and_window_are_ordered() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let mut f = Fields {
        title: None,
        description: None,
        starts_on: d("2026-03-01"),
        ends_on: d("2026-03-01"),
        enrol_opens_at: None,
        enrol_closes_at: None,
        capacity: None,
        enrolment_mode: EnrolmentMode::AssignedOnly,
        price: Price::IncludedInSubscription,
        min_score: None,
        billing: EditionBilling::default(),
    };
    assert!(f.check().is_ok(), "a one-day edition");
    f.ends_on = d("2026-02-28");
    assert_eq!(field(f.check().unwrap_err()), "endsOn");
    f.ends_on = None;
    let now = Utc::now();
    f.enrol_opens_at = Some(now);
    f.enrol_closes_at = Some(now);
    assert_eq!(field(f.check().unwrap_err()), "enrolClosesAt");
    assert!(capacity(Some(0)).is_err() && capacity(Some(1)).is_ok() && capacity(None).is_ok());
    assert!(min_score(Some(101)).is_err() && min_score(Some(0)).is_ok());
    assert_eq!(title(Some("  ".into())).unwrap(), None);
    assert_eq!(
        description(Some(" Line one\nline two ".into())).unwrap(),
        Some("Line one\nline two".into())
    );
    assert!(description(Some("bell\u{7}".into())).is_err());
}
