//! `extension::parse_extensions` on arbitrary strings.
//!
//! Invariants: it never panics; on success every name and parameter name is an HTTP token and every value
//! a token, and formatting the offers (each alone, and all joined with ", ") parses back to the same
//! offers; on failure nothing partial is worth checking, but appending to a non-empty list keeps what was
//! there.

use wslane::extension::{parse_extensions, ExtensionElement};

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let mut offers = vec![ExtensionElement::new("kept")];
    let result = parse_extensions(&value, &mut offers);
    assert_eq!(
        offers[0],
        ExtensionElement::new("kept"),
        "existing offers were changed"
    );
    if result.is_err() {
        return;
    }
    let offers = offers.split_off(1);
    for offer in &offers {
        assert!(
            is_token(&offer.name),
            "name {:?} from {value:?}",
            offer.name
        );
        for (name, value) in &offer.params {
            assert!(is_token(name), "parameter {name:?}");
            if let Some(value) = value {
                assert!(is_token(value), "parameter value {value:?}");
            }
        }
        let text = offer.to_string();
        let mut again = Vec::new();
        parse_extensions(&text, &mut again).unwrap_or_else(|_| panic!("{text:?} does not parse"));
        assert_eq!(
            again,
            std::slice::from_ref(offer),
            "{text:?} parses to something else"
        );
    }
    let joined = offers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut again = Vec::new();
    parse_extensions(&joined, &mut again).unwrap_or_else(|_| panic!("{joined:?} does not parse"));
    assert_eq!(
        again, offers,
        "{joined:?} parses to other offers than {value:?}"
    );
}

/// An HTTP token (RFC 9110 section 5.6.2), written out independently of the crate's own check.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z') || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}
