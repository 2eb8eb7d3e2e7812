//! ISO 4217 currencies with their minor-unit exponents.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::money::MoneyError;

// One table drives the enum, the code/exponent lookups and parsing, so they cannot drift.
macro_rules! currencies {
    ($($code:ident = $exp:literal, $name:literal;)*) => {
        /// An ISO 4217 currency we can bill in.
        ///
        /// Variants are spelled exactly as their alphabetic code so `Debug` and
        /// `Display` both print the code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Currency {
            $(#[doc = $name] $code,)*
        }

        impl Currency {
            /// Every supported currency, in table order.
            pub const ALL: &'static [Currency] = &[$(Currency::$code,)*];

            /// The three-letter ISO 4217 alphabetic code.
            pub const fn code(self) -> &'static str {
                match self {
                    $(Currency::$code => stringify!($code),)*
                }
            }

            /// Number of decimal digits in the minor unit (2 for EUR, 0 for JPY, 3 for KWD).
            pub const fn exponent(self) -> u8 {
                match self {
                    $(Currency::$code => $exp,)*
                }
            }

            fn from_code(code: &str) -> Option<Currency> {
                match code {
                    $(stringify!($code) => Some(Currency::$code),)*
                    _ => None,
                }
            }
        }
    };
}

currencies! {
    EUR = 2, "Euro";
    USD = 2, "US dollar";
    GBP = 2, "Pound sterling";
    CHF = 2, "Swiss franc";
    JPY = 0, "Japanese yen";
    KWD = 3, "Kuwaiti dinar";
    BHD = 3, "Bahraini dinar";
    TND = 3, "Tunisian dinar";
    JOD = 3, "Jordanian dinar";
    OMR = 3, "Omani rial";
    SEK = 2, "Swedish krona";
    NOK = 2, "Norwegian krone";
    DKK = 2, "Danish krone";
    PLN = 2, "Polish złoty";
    CZK = 2, "Czech koruna";
    HUF = 2, "Hungarian forint";
    RON = 2, "Romanian leu";
    CAD = 2, "Canadian dollar";
    AUD = 2, "Australian dollar";
    NZD = 2, "New Zealand dollar";
    SGD = 2, "Singapore dollar";
    HKD = 2, "Hong Kong dollar";
    CNY = 2, "Renminbi";
    INR = 2, "Indian rupee";
    BRL = 2, "Brazilian real";
    MXN = 2, "Mexican peso";
    ZAR = 2, "South African rand";
    TRY = 2, "Turkish lira";
    ILS = 2, "Israeli new shekel";
    AED = 2, "UAE dirham";
    SAR = 2, "Saudi riyal";
    MAD = 2, "Moroccan dirham";
    XOF = 0, "West African CFA franc";
    XAF = 0, "Central African CFA franc";
    CLP = 0, "Chilean peso";
    ISK = 0, "Icelandic króna";
    KRW = 0, "South Korean won";
}

impl Currency {
    /// Parses an upper-case ISO 4217 code; `field` names the input in the error.
    pub fn parse(field: &'static str, code: &str) -> Result<Currency, MoneyError> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyError::Invalid {
                field,
                reason: "must be a three-letter upper-case ISO 4217 code".to_owned(),
            });
        }
        Currency::from_code(code).ok_or_else(|| MoneyError::Invalid {
            field,
            reason: format!("unsupported currency {code}"),
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;

        impl Visitor<'_> for CodeVisitor {
            type Value = Currency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::parse("currency", v).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(CodeVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, StrDeserializer};
    use std::collections::HashSet;

    #[test]
    fn table_round_trips_through_parse() {
        let mut seen = HashSet::new();
        for &c in Currency::ALL {
            assert!(seen.insert(c.code()), "duplicate {c}");
            assert_eq!(Currency::parse("c", c.code()).unwrap(), c);
            assert_eq!(c.to_string(), c.code());
            assert_eq!(format!("{c:?}"), c.code());
            assert!(c.exponent() <= 3);
        }
    }

    #[test]
    fn exponents_match_iso() {
        let cases = [
            (Currency::EUR, 2),
            (Currency::USD, 2),
            (Currency::JPY, 0),
            (Currency::KWD, 3),
            (Currency::BHD, 3),
            (Currency::TND, 3),
            (Currency::XOF, 0),
            (Currency::CLP, 0),
            (Currency::ISK, 0),
            (Currency::HUF, 2),
        ];
        for (c, e) in cases {
            assert_eq!(c.exponent(), e, "{c}");
        }
    }

    #[test]
    fn parse_rejects_bad_codes_naming_the_field() {
        for bad in ["", "eur", "Eur", "EU", "EURO", "E1R", "€UR", " EUR"] {
            match Currency::parse("plan.currency", bad) {
                Err(MoneyError::Invalid { field, .. }) => assert_eq!(field, "plan.currency"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let err = Currency::parse("plan.currency", "XXX").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid plan.currency: unsupported currency XXX"
        );
    }

    #[test]
    fn deserializes_from_code_string() {
        let d: StrDeserializer<'_, ValueError> = "CHF".into_deserializer();
        assert_eq!(Currency::deserialize(d).unwrap(), Currency::CHF);
        let d: StrDeserializer<'_, ValueError> = "chf".into_deserializer();
        assert!(Currency::deserialize(d).is_err());
    }
}
