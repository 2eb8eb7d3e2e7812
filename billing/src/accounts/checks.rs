//! Checks of what a billing account's admin types: country, SIREN/SIRET, VAT numbers. Each
//! error names the field, so a form can point at it.

use spaces_tenants::{Error, Result};

/// ISO 3166-1 alpha-2 codes (officially assigned).
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL \
GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR \
LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK \
PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR \
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An upper-case ISO 3166-1 alpha-2 country code.
pub fn country(field: &'static str, raw: &str) -> Result<String> {
    let c = raw.trim().to_ascii_uppercase();
    if c.len() == 2 && COUNTRIES.split(' ').any(|k| k == c) {
        Ok(c)
    } else {
        Err(Error::invalid(
            field,
            "must be an ISO 3166-1 alpha-2 country code, such as FR",
        ))
    }
}

/// The Luhn checksum over decimal digits (SIREN, SIRET).
fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A French SIREN (9 digits) or SIRET (14 digits), both Luhn-checked; spaces are dropped.
pub fn siren_or_siret(field: &'static str, raw: &str) -> Result<String> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if !all_digits(&s) || !(s.len() == 9 || s.len() == 14) {
        return Err(Error::invalid(
            field,
            "must be a SIREN (9 digits) or a SIRET (14 digits) in France",
        ));
    }
    if !luhn(&s) {
        let what = if s.len() == 9 { "SIREN" } else { "SIRET" };
        return Err(Error::invalid(
            field,
            format!("is not a valid {what}: its check digit is wrong"),
        ));
    }
    Ok(s)
}

/// The VAT prefix of an EU member state (Greece writes EL) and the shape of what follows it:
/// `9` a digit, `A` a letter, `X` a letter or digit; alternatives separated by `|`.
const EU_VAT: &[(&str, &str, &str)] = &[
    ("AT", "AT", "U99999999"),
    ("BE", "BE", "9999999999"),
    ("BG", "BG", "999999999|9999999999"),
    ("CY", "CY", "99999999A"),
    ("CZ", "CZ", "99999999|999999999|9999999999"),
    ("DE", "DE", "999999999"),
    ("DK", "DK", "99999999"),
    ("EE", "EE", "999999999"),
    ("GR", "EL", "999999999"),
    ("ES", "ES", "X9999999X"),
    ("FI", "FI", "99999999"),
    ("FR", "FR", "99999999999"),
    ("HR", "HR", "99999999999"),
    ("HU", "HU", "99999999"),
    ("IE", "IE", "9999999A|9999999AA|9A99999A"),
    ("IT", "IT", "99999999999"),
    ("LT", "LT", "999999999|999999999999"),
    ("LU", "LU", "99999999"),
    ("LV", "LV", "99999999999"),
    ("MT", "MT", "99999999"),
    ("NL", "NL", "999999999B99"),
    ("PL", "PL", "9999999999"),
    ("PT", "PT", "999999999"),
    (
        "RO",
        "RO",
        "99|999|9999|99999|999999|9999999|99999999|999999999|9999999999",
    ),
    ("SE", "SE", "999999999999"),
    ("SI", "SI", "99999999"),
    ("SK", "SK", "9999999999"),
];

fn shape_matches(shape: &str, s: &str) -> bool {
    shape.len() == s.len()
        && shape.bytes().zip(s.bytes()).all(|(p, c)| match p {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            b'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            lit => lit == c,
        })
}

/// The French VAT key of a SIREN: `(12 + 3 × (SIREN mod 97)) mod 97`.
pub fn fr_vat_key(siren: u64) -> u64 {
    (12 + 3 * (siren % 97)) % 97
}

/// A VAT number, upper-cased with spaces and dots dropped. For an account in an EU member
/// state the prefix must be that state's and the rest its documented shape (France: `FR`, a
/// two-digit key, then a valid SIREN, the key checked). Outside the EU: a two-letter prefix
/// then 2 to 13 letters or digits.
pub fn vat_number(field: &'static str, raw: &str, country: &str) -> Result<String> {
    let s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let (prefix, rest) = s.split_at(s.len().min(2));
    if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::invalid(
            field,
            "must start with a two-letter country prefix, such as FR",
        ));
    }
    let Some(&(_, want, shapes)) = EU_VAT.iter().find(|(c, _, _)| *c == country) else {
        if EU_VAT.iter().any(|(_, p, _)| *p == prefix) {
            return Err(Error::invalid(
                field,
                "is an EU VAT number, but the account's country is outside the EU",
            ));
        }
        let ok = (2..=13).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        return if ok {
            Ok(s)
        } else {
            Err(Error::invalid(
                field,
                "must be a country prefix then 2 to 13 letters or digits",
            ))
        };
    };
    if prefix != want {
        return Err(Error::invalid(
            field,
            format!("must start with {want}, the VAT prefix of the account's country"),
        ));
    }
    if !shapes.split('|').any(|shape| shape_matches(shape, rest)) {
        return Err(Error::invalid(
            field,
            format!("is not in the format of {want} VAT numbers"),
        ));
    }
    if want == "FR" {
        let (key, siren) = rest.split_at(2);
        let siren_ok = luhn(siren);
        let key_ok = matches!(
            (key.parse::<u64>(), siren.parse::<u64>()),
            (Ok(k), Ok(n)) if k == fr_vat_key(n)
        );
        if !siren_ok || !key_ok {
            return Err(Error::invalid(
                field,
                "is not a valid French VAT number: its key does not match its SIREN",
            ));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field.into_owned(),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn siren_and_siret_pass_luhn_or_are_refused() {
        // Real-world shapes: 732 829 320 (a SIREN) and 732 829 320 00074 (its SIRET).
        assert_eq!(
            siren_or_siret("registrationNumber", "732 829 320").ok(),
            Some("732829320".into())
        );
        assert_eq!(
            siren_or_siret("registrationNumber", "73282932000074").ok(),
            Some("73282932000074".into())
        );
        assert!(siren_or_siret("registrationNumber", "732829321").is_err());
        assert!(siren_or_siret("registrationNumber", "73282932000075").is_err());
        assert!(siren_or_siret("registrationNumber", "12345678").is_err());
        assert!(siren_or_siret("registrationNumber", "ABCDEFGHI").is_err());
        assert_eq!(
            field_of(siren_or_siret("registrationNumber", "1").unwrap_err()),
            "registrationNumber"
        );
    }

    #[test]
    fn french_vat_numbers_carry_the_key_of_their_siren() {
        // SIREN 732829320: 732829320 mod 97 = 43; (12 + 3 × 43) mod 97 = 44.
        assert_eq!(fr_vat_key(732_829_320), 44);
        assert_eq!(
            vat_number("vatNumber", "FR 44 732829320", "FR").ok(),
            Some("FR44732829320".into())
        );
        assert!(vat_number("vatNumber", "FR45732829320", "FR").is_err());
        // The right key of a SIREN whose check digit is wrong.
        assert!(
            vat_number(
                "vatNumber",
                &format!("FR{:02}732829321", fr_vat_key(732_829_321)),
                "FR"
            )
            .is_err()
        );
        assert!(vat_number("vatNumber", "FR4473282932", "FR").is_err());
        assert!(vat_number("vatNumber", "DE44732829320", "FR").is_err());
    }

    #[test]
    fn other_member_states_follow_their_documented_shapes() {
        assert!(vat_number("vatNumber", "DE123456789", "DE").is_ok());
        assert!(vat_number("vatNumber", "DE12345678", "DE").is_err());
        assert!(vat_number("vatNumber", "ATU12345678", "AT").is_ok());
        assert!(vat_number("vatNumber", "AT12345678", "AT").is_err());
        assert!(vat_number("vatNumber", "EL123456789", "GR").is_ok());
        assert!(vat_number("vatNumber", "GR123456789", "GR").is_err());
        assert!(vat_number("vatNumber", "NL123456789B01", "NL").is_ok());
        assert!(vat_number("vatNumber", "NL123456789001", "NL").is_err());
        assert!(vat_number("vatNumber", "ESX1234567Y", "ES").is_ok());
        assert!(vat_number("vatNumber", "IE1234567FA", "IE").is_ok());
        assert!(vat_number("vatNumber", "BE0123456789", "BE").is_ok());
        // Outside the EU: a prefix and letters or digits, but no EU prefix.
        assert!(vat_number("vatNumber", "CHE123456789", "CH").is_ok());
        assert!(vat_number("vatNumber", "FR44732829320", "CH").is_err());
        assert!(vat_number("vatNumber", "12", "CH").is_err());
    }

    #[test]
    fn countries_are_iso_alpha_2() {
        assert_eq!(country("country", "fr").ok(), Some("FR".into()));
        assert!(country("country", "FRA").is_err());
        assert!(country("country", "XX").is_err());
        assert!(country("country", "").is_err());
    }
}
