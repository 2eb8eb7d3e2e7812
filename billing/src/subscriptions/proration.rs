//! The arithmetic of seats and terms, in integer minor units: every division rounds half-up to
//! the minor unit, once, at the end (README, "Seat subscriptions").

use spaces_tenants::{Error, Result};

/// `num / den` rounded half-up, for `num >= 0`, `den > 0`.
fn div_half_up(num: i128, den: i128) -> Result<i64> {
    if num < 0 || den <= 0 {
        return Err(Error::Internal("proration of a negative amount".into()));
    }
    i64::try_from((2 * num + den) / (2 * den))
        .map_err(|_| Error::Internal("proration out of range".into()))
}

/// The price of one term for `seats` seats, when the plan prices `plan_seats` seats at
/// `price_minor`.
pub fn term_price(price_minor: i64, plan_seats: i32, seats: i32) -> Result<i64> {
    div_half_up(
        i128::from(price_minor) * i128::from(seats),
        i128::from(plan_seats),
    )
}

/// Seats added mid-term: remaining days / term days x (added seats x price per seat), rounded
/// half-up once, where price per seat = plan price / plan seats.
pub fn prorated(
    price_minor: i64,
    plan_seats: i32,
    added: i32,
    remaining_days: i64,
    term_days: i64,
) -> Result<i64> {
    div_half_up(
        i128::from(price_minor) * i128::from(added) * i128::from(remaining_days),
        i128::from(plan_seats) * i128::from(term_days),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_term_for_the_plan_seats_is_the_plan_price() {
        assert_eq!(term_price(1_200_000, 200, 200).unwrap(), 1_200_000);
        assert_eq!(prorated(1_200_000, 200, 200, 365, 365).unwrap(), 1_200_000);
    }

    #[test]
    fn half_a_minor_unit_rounds_up() {
        // 1.00 for 1 seat, 1 day of 2 left: 50 cents exactly.
        assert_eq!(prorated(100, 1, 1, 1, 2).unwrap(), 50);
        // 1 x 1 x 1 / 2 = 0.5 -> 1.
        assert_eq!(prorated(1, 1, 1, 1, 2).unwrap(), 1);
        // 3 x 1 x 1 / 2 = 1.5 -> 2.
        assert_eq!(prorated(3, 1, 1, 1, 2).unwrap(), 2);
        // 5 x 1 x 1 / 2 = 2.5 -> 3 (half-up, not to even).
        assert_eq!(prorated(5, 1, 1, 1, 2).unwrap(), 3);
    }

    #[test]
    fn just_below_and_above_half() {
        // 1000 x 1 x 1 / 3 = 333.33.. -> 333; x 2 = 666.66.. -> 667.
        assert_eq!(prorated(1000, 1, 1, 1, 3).unwrap(), 333);
        assert_eq!(prorated(1000, 1, 1, 2, 3).unwrap(), 667);
        // 12,000.00 EUR for 200 seats, 10 seats added with 100 of 365 days left:
        // 1_200_000 x 10 x 100 / (200 x 365) = 16_438.35.. -> 16_438 (164.38 EUR).
        assert_eq!(prorated(1_200_000, 200, 10, 100, 365).unwrap(), 16_438);
        // 45,000.00 EUR for 100 seats, 1 seat with 73 of 365 days left: 4_500_000 / 500 =
        // 9_000 exactly; with 1 of 365 left: 4_500_000 / 36_500 = 123.28.. -> 123.
        assert_eq!(prorated(4_500_000, 100, 1, 73, 365).unwrap(), 9_000);
        assert_eq!(prorated(4_500_000, 100, 1, 1, 365).unwrap(), 123);
        // An exact half at a realistic size: 1_000 x 1 x 73 / (1 x 146) = 500; 1_001 -> 500.5 -> 501.
        assert_eq!(prorated(1_000, 1, 1, 73, 146).unwrap(), 500);
        assert_eq!(prorated(1_001, 1, 1, 73, 146).unwrap(), 501);
    }

    #[test]
    fn a_seat_count_off_the_plan_scales_the_price() {
        // 999.99 for 3 seats, sold with 2: 666.66 exactly.
        assert_eq!(term_price(99_999, 3, 2).unwrap(), 66_666);
        // 1.00 for 3 seats, sold with 1: 33.33.. -> 33; with 2: 66.66.. -> 67.
        assert_eq!(term_price(100, 3, 1).unwrap(), 33);
        assert_eq!(term_price(100, 3, 2).unwrap(), 67);
    }

    #[test]
    fn nothing_left_costs_nothing_and_huge_amounts_do_not_overflow() {
        assert_eq!(prorated(1_200_000, 200, 10, 0, 365).unwrap(), 0);
        assert_eq!(
            prorated(i64::MAX / 2, 1, 1, 365, 365).unwrap(),
            i64::MAX / 2
        );
        assert!(prorated(i64::MAX, 1, 1_000_000, 365, 365).is_err());
    }
}
