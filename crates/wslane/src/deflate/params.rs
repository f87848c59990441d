//! The four parameters of RFC 7692 section 7.1, read from an offer or a response.

use crate::extension::{ExtensionElement, NegotiationError};

/// The name of the extension.
pub const NAME: &str = "permessage-deflate";

/// Parameters of one `permessage-deflate` element, validated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in an offer only).
    pub(crate) client_max_window_bits: Option<Option<u8>>,
}

/// Whether the element is an offer (client to server) or a response (server to client): a response's
/// `client_max_window_bits` must carry a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Offer,
    Response,
}

impl Params {
    /// Validates an element: known parameters only, each at most once, values `8` to `15` written without
    /// leading zeros (sections 7.1.2.1 and 7.1.2.2). The error names the first parameter that is wrong.
    pub(crate) fn parse(
        element: &ExtensionElement,
        side: Side,
    ) -> Result<Params, NegotiationError> {
        let mut params = Params::default();
        let mut seen = [false; 4];
        for (name, value) in &element.params {
            let index = match name.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => 0,
                "client_no_context_takeover" => 1,
                "server_max_window_bits" => 2,
                "client_max_window_bits" => 3,
                _ => {
                    return Err(NegotiationError::UnknownParameter {
                        extension: NAME.into(),
                        parameter: name.clone(),
                    })
                }
            };
            if core::mem::replace(&mut seen[index], true) {
                return Err(NegotiationError::DuplicateParameter {
                    extension: NAME.into(),
                    parameter: name.clone(),
                });
            }
            let invalid = || NegotiationError::InvalidValue {
                extension: NAME.into(),
                parameter: name.clone(),
                value: value.clone(),
            };
            let bits = match value.as_deref() {
                Some(text) => Some(window_bits(text).ok_or_else(invalid)?),
                None => None,
            };
            match (index, bits) {
                (0, None) => params.server_no_context_takeover = true,
                (1, None) => params.client_no_context_takeover = true,
                (2, Some(bits)) => params.server_max_window_bits = Some(bits),
                (3, Some(bits)) => params.client_max_window_bits = Some(Some(bits)),
                (3, None) if side == Side::Offer => params.client_max_window_bits = Some(None),
                _ => return Err(invalid()),
            }
        }
        Ok(params)
    }

    /// The element carrying these parameters.
    pub(crate) fn to_element(self) -> ExtensionElement {
        let mut element = ExtensionElement::new(NAME);
        let mut digits = [0u8; 2];
        if self.server_no_context_takeover {
            element = element.param("server_no_context_takeover", None);
        }
        if self.client_no_context_takeover {
            element = element.param("client_no_context_takeover", None);
        }
        if let Some(bits) = self.server_max_window_bits {
            element = element.param("server_max_window_bits", Some(decimal(bits, &mut digits)));
        }
        match self.client_max_window_bits {
            Some(Some(bits)) => {
                let value = decimal(bits, &mut digits);
                element = element.param("client_max_window_bits", Some(value));
            }
            Some(None) => element = element.param("client_max_window_bits", None),
            None => {}
        }
        element
    }
}

/// `8` to `15`, as the ABNF of section 7.1.2.1 writes them.
fn window_bits(text: &str) -> Option<u8> {
    match text.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

fn decimal(bits: u8, digits: &mut [u8; 2]) -> &str {
    let len = if bits >= 10 {
        *digits = [b'1', b'0' + bits - 10];
        2
    } else {
        digits[0] = b'0' + bits;
        1
    };
    core::str::from_utf8(&digits[..len]).unwrap_or("15")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn element(params: &[(&str, Option<&str>)]) -> ExtensionElement {
        params
            .iter()
            .fold(ExtensionElement::new(NAME), |e, (n, v)| e.param(n, *v))
    }

    #[test]
    fn parses_every_parameter_with_and_without_values() {
        let offer = element(&[
            ("server_no_context_takeover", None),
            ("client_no_context_takeover", None),
            ("server_max_window_bits", Some("10")),
            ("client_max_window_bits", None),
        ]);
        let params = Params::parse(&offer, Side::Offer).unwrap();
        assert_eq!(
            params,
            Params {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(10),
                client_max_window_bits: Some(None),
            }
        );
        assert_eq!(params.to_element(), offer);
    }

    fn invalid(parameter: &str, value: Option<&str>) -> NegotiationError {
        NegotiationError::InvalidValue {
            extension: NAME.into(),
            parameter: parameter.into(),
            value: value.map(String::from),
        }
    }

    #[test]
    fn errors_name_the_parameter_at_fault() {
        type Pairs = &'static [(&'static str, Option<&'static str>)];
        let cases: &[(Pairs, NegotiationError)] = &[
            (
                &[("server_no_context_takeover", Some("1"))],
                invalid("server_no_context_takeover", Some("1")),
            ),
            (
                &[("Server_Max_Window_Bits", None)],
                invalid("Server_Max_Window_Bits", None),
            ),
            (
                &[("server_max_window_bits", Some("010"))],
                invalid("server_max_window_bits", Some("010")),
            ),
            (
                &[("client_no_context_takeover", None), ("x-mux", None)],
                NegotiationError::UnknownParameter {
                    extension: NAME.into(),
                    parameter: "x-mux".into(),
                },
            ),
            (
                &[
                    ("client_max_window_bits", Some("10")),
                    ("CLIENT_MAX_WINDOW_BITS", Some("10")),
                ],
                NegotiationError::DuplicateParameter {
                    extension: NAME.into(),
                    parameter: "CLIENT_MAX_WINDOW_BITS".into(),
                },
            ),
        ];
        for (params, expected) in cases {
            assert_eq!(
                Params::parse(&element(params), Side::Offer).as_ref(),
                Err(expected),
                "{params:?}"
            );
        }
    }

    #[test]
    fn rejects_what_section_7_rejects() {
        let bad: &[&[(&str, Option<&str>)]] = &[
            &[("server_no_context_takeover", Some("1"))],
            &[("server_max_window_bits", None)],
            &[("server_max_window_bits", Some("7"))],
            &[("server_max_window_bits", Some("16"))],
            &[("server_max_window_bits", Some("010"))],
            &[("client_max_window_bits", Some("x"))],
            &[("unknown", None)],
            &[
                ("client_no_context_takeover", None),
                ("client_no_context_takeover", None),
            ],
        ];
        for params in bad {
            assert!(
                Params::parse(&element(params), Side::Offer).is_err(),
                "{params:?}"
            );
        }
        // A response must give client_max_window_bits a value.
        let bare = element(&[("client_max_window_bits", None)]);
        assert_eq!(
            Params::parse(&bare, Side::Response),
            Err(invalid("client_max_window_bits", None))
        );
        for bits in 8..=15u8 {
            let mut digits = [0; 2];
            assert_eq!(window_bits(decimal(bits, &mut digits)), Some(bits));
        }
    }
}
