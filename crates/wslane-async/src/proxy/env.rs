//! The proxy the environment names for a target, by Python `websockets`' rules (its "Proxies" page), plus
//! curl's `all_proxy` as the last resort.

use wslane::handshake::Url;

use super::{Proxy, ProxyError};

/// The variables tried for a `wss://` target, in order.
const SECURE: [Variable; 4] = [
    Variable::new("wss_proxy", "WSS_PROXY"),
    Variable::new("socks_proxy", "SOCKS_PROXY"),
    Variable::new("https_proxy", "HTTPS_PROXY"),
    Variable::new("all_proxy", "ALL_PROXY"),
];

/// The variables tried for a `ws://` target, in order.
const PLAIN: [Variable; 5] = [
    Variable::new("ws_proxy", "WS_PROXY"),
    Variable::new("socks_proxy", "SOCKS_PROXY"),
    Variable::new("https_proxy", "HTTPS_PROXY"),
    Variable::new("http_proxy", "HTTP_PROXY"),
    Variable::new("all_proxy", "ALL_PROXY"),
];

const NO_PROXY: Variable = Variable::new("no_proxy", "NO_PROXY");

/// An environment variable in its two spellings.
struct Variable {
    lower: &'static str,
    upper: &'static str,
}

impl Variable {
    const fn new(lower: &'static str, upper: &'static str) -> Variable {
        Variable { lower, upper }
    }

    /// The value and the spelling it came from. The lower-case spelling wins, and set but empty it hides
    /// the upper-case one (as Python's `urllib` reads them). Under CGI (`REQUEST_METHOD` set), the
    /// upper-case `HTTP_PROXY` is ignored: a client's `Proxy:` request field arrives there.
    fn read(&self, var: &impl Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
        match var(self.lower) {
            Some(value) if value.is_empty() => None,
            Some(value) => Some((self.lower, value)),
            None if self.upper == "HTTP_PROXY" && var("REQUEST_METHOD").is_some() => None,
            None => var(self.upper)
                .filter(|value| !value.is_empty())
                .map(|value| (self.upper, value)),
        }
    }
}

impl Proxy {
    /// The proxy the environment names for `target`, or `None` to connect directly.
    ///
    /// The rules are Python `websockets`' (since 15.0), with curl's `all_proxy` added last:
    ///
    /// 1. If `no_proxy` matches the target, connect directly (see below).
    /// 2. For `wss://`: `wss_proxy`, then `socks_proxy`, `https_proxy`, `all_proxy`. For `ws://`:
    ///    `ws_proxy`, then `socks_proxy`, `https_proxy`, `http_proxy`, `all_proxy`. The first one set
    ///    is used, whatever its scheme (`https_proxy=socks5h://proxy:1080` is a SOCKS proxy).
    ///
    /// Each variable is read in lower case, then in upper case; a lower-case one set to the empty string
    /// hides the upper-case one. Under CGI (`REQUEST_METHOD` set) `HTTP_PROXY` is ignored, since a
    /// request's `Proxy` field would arrive there.
    ///
    /// `no_proxy` is `*` (every host), or a comma-separated list of host names, domains and IP addresses,
    /// each optionally with `:port`: an entry matches the target's host (or `host:port`) exactly or as a
    /// domain suffix (`example.com` and `.example.com` both match `ws.example.com`). Matching is on the
    /// name as written in the URL, case-insensitive; address ranges (CIDR) are not supported.
    ///
    /// # Errors
    /// [`ProxyError::Address`], naming the variable, when the one chosen is not a valid proxy address.
    pub fn from_env(target: &Url) -> Result<Option<Proxy>, ProxyError> {
        from_vars(target, |name| std::env::var(name).ok())
    }
}

/// [`Proxy::from_env`] over any source of variables.
pub(crate) fn from_vars(
    target: &Url,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    if let Some((_, no_proxy)) = NO_PROXY.read(&var) {
        if bypasses(&no_proxy, target.host(), target.port()) {
            return Ok(None);
        }
    }
    let candidates: &[Variable] = if target.is_tls() { &SECURE } else { &PLAIN };
    let Some((variable, address)) = candidates.iter().find_map(|v| v.read(&var)) else {
        return Ok(None);
    };
    Proxy::parse(address.trim())
        .map(Some)
        .map_err(|error| ProxyError::Address {
            variable: Some(variable),
            error,
        })
}

/// Whether the `no_proxy` value `list` matches `host` on `port`.
fn bypasses(list: &str, host: &str, port: u16) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let host = host.to_ascii_lowercase();
    let host_port = format!("{host}:{port}");
    list.split(',').any(|entry| {
        let entry: String = entry
            .trim()
            .trim_start_matches('.')
            .chars()
            .filter(|c| !matches!(c, '[' | ']'))
            .collect::<String>()
            .to_ascii_lowercase();
        if entry.is_empty() {
            return false;
        }
        let suffix = format!(".{entry}");
        [&host, &host_port]
            .iter()
            .any(|name| **name == entry || name.ends_with(&suffix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxy_for(url: &str, vars: &[(&str, &str)]) -> Result<Option<String>, ProxyError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let url = Url::parse(url).unwrap();
        from_vars(&url, |name| vars.get(name).cloned()).map(|p| p.map(|p| p.to_string()))
    }

    fn some(address: &str) -> Result<Option<String>, ProxyError> {
        Ok(Some(address.to_owned()))
    }

    #[test]
    fn picks_the_variable_by_scheme_and_priority() {
        let all = [
            ("WSS_PROXY", "http://wss:1"),
            ("ws_proxy", "http://ws:1"),
            ("socks_proxy", "socks5h://socks:1"),
            ("https_proxy", "http://https:1"),
            ("http_proxy", "http://http:1"),
            ("ALL_PROXY", "socks5://all:1"),
        ];
        assert_eq!(proxy_for("wss://h/", &all), some("http://wss:1"));
        assert_eq!(proxy_for("ws://h/", &all), some("http://ws:1"));
        assert_eq!(proxy_for("wss://h/", &all[1..]), some("socks5h://socks:1"));
        assert_eq!(proxy_for("ws://h/", &all[2..]), some("socks5h://socks:1"));
        assert_eq!(proxy_for("wss://h/", &all[3..]), some("http://https:1"));
        assert_eq!(proxy_for("ws://h/", &all[3..]), some("http://https:1"));
        // http_proxy serves ws:// only.
        assert_eq!(proxy_for("wss://h/", &all[4..]), some("socks5://all:1"));
        assert_eq!(proxy_for("ws://h/", &all[4..]), some("http://http:1"));
        assert_eq!(proxy_for("ws://h/", &all[5..]), some("socks5://all:1"));
        assert_eq!(proxy_for("ws://h/", &[]), Ok(None));
        assert_eq!(
            proxy_for("wss://h/", &[("http_proxy", "http://p")]),
            Ok(None)
        );
    }

    #[test]
    fn lower_case_wins_and_empty_hides() {
        let vars = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:1"),
        ];
        assert_eq!(proxy_for("wss://h/", &vars), some("http://lower:1"));
        let vars = [("https_proxy", ""), ("HTTPS_PROXY", "http://upper:1")];
        assert_eq!(proxy_for("wss://h/", &vars), Ok(None));
        let vars = [("HTTPS_PROXY", "http://upper:1")];
        assert_eq!(proxy_for("wss://h/", &vars), some("http://upper:1"));
        // Under CGI, HTTP_PROXY may be a request's field: ignored; http_proxy is not.
        let cgi = [("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")];
        assert_eq!(proxy_for("ws://h/", &cgi), Ok(None));
        let cgi = [("REQUEST_METHOD", "GET"), ("http_proxy", "http://ok:1")];
        assert_eq!(proxy_for("ws://h/", &cgi), some("http://ok:1"));
    }

    #[test]
    fn no_proxy_matches_hosts_domains_ports_and_star() {
        let proxy = ("https_proxy", "http://p:1");
        for (no_proxy, url, bypassed) in [
            ("*", "wss://anything/", true),
            (" * ", "wss://anything/", true),
            ("example.com", "wss://example.com/", true),
            ("example.com", "wss://ws.example.com/", true),
            (".example.com", "wss://ws.example.com/", true),
            ("EXAMPLE.com", "wss://Ws.Example.COM/", true),
            ("example.com", "wss://badexample.com/", false),
            ("ws.example.com", "wss://example.com/", false),
            ("a.test, example.com ,b.test", "wss://example.com/", true),
            ("example.com:8443", "wss://example.com:8443/", true),
            ("example.com:8443", "wss://example.com/", false),
            ("127.0.0.1", "wss://127.0.0.1:9000/", true),
            ("::1", "wss://[::1]:9000/", true),
            ("[::1]:9000", "wss://[::1]:9000/", true),
            ("localhost", "wss://127.0.0.1/", false),
            ("*.example.com", "wss://ws.example.com/", false),
            (",,", "wss://h/", false),
        ] {
            let vars = [("no_proxy", no_proxy), proxy];
            let expected = if bypassed {
                Ok(None)
            } else {
                some("http://p:1")
            };
            assert_eq!(proxy_for(url, &vars), expected, "{no_proxy} {url}");
        }
        let vars = [("NO_PROXY", "h"), proxy];
        assert_eq!(proxy_for("wss://h/", &vars), Ok(None));
    }

    #[test]
    fn an_invalid_address_names_its_variable() {
        let err = proxy_for("ws://h/", &[("HTTP_PROXY", "ftp://p")]).unwrap_err();
        assert!(matches!(
            err,
            ProxyError::Address {
                variable: Some("HTTP_PROXY"),
                ..
            }
        ));
        assert!(err.to_string().contains("HTTP_PROXY"), "{err}");
    }
}
