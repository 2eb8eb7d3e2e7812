//! The CSV's columns: which header names which column (leniently: case, spaces, `_` and `-`
//! ignored, English and French names), and the due date's two accepted forms.

use chrono::NaiveDate;

pub(super) enum Column {
    Email,
    Given,
    Family,
    Organisation,
    Due,
    HomePage,
    Account,
}

pub(super) fn column_of(header: &str) -> Option<Column> {
    let h: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    Some(match h.as_str() {
        "email" | "mail" | "emailaddress" | "courriel" => Column::Email,
        "givenname" | "firstname" | "prenom" | "prénom" => Column::Given,
        "familyname" | "lastname" | "surname" | "nom" => Column::Family,
        "organisation" | "organization" | "org" | "company" | "entreprise" => Column::Organisation,
        "duedate" | "due" | "echeance" | "échéance" => Column::Due,
        "lmshomepage" | "externalhomepage" | "accounthomepage" => Column::HomePage,
        "lmsid" | "externalref" | "accountname" | "lmsaccount" => Column::Account,
        _ => return None,
    })
}

pub(super) fn parse_due(raw: &str) -> std::result::Result<Option<NaiveDate>, ()> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_dates_are_read_leniently() {
        assert!(matches!(column_of("E-mail"), Some(Column::Email)));
        assert!(matches!(column_of("Given name"), Some(Column::Given)));
        assert!(matches!(column_of("family_name"), Some(Column::Family)));
        assert!(matches!(
            column_of("Organisation"),
            Some(Column::Organisation)
        ));
        assert!(matches!(column_of("Due date"), Some(Column::Due)));
        assert!(column_of("shoe size").is_none());
        assert_eq!(
            parse_due("2027-01-31"),
            Ok(NaiveDate::from_ymd_opt(2027, 1, 31))
        );
        assert_eq!(
            parse_due("31/01/2027"),
            Ok(NaiveDate::from_ymd_opt(2027, 1, 31))
        );
        assert_eq!(parse_due(""), Ok(None));
        assert!(parse_due("31.01.2027").is_err());
    }
}
