//! Which webhook URLs a node accepts: `http` or `https` only, at most
//! [`MAX_URL_LEN`] bytes, with a host, and never the node's own API (a hook pointing
//! at the node would make it POST to itself).

use std::net::{IpAddr, SocketAddr};

use carchain_core::grants::webhook::MAX_URL_LEN;
use reqwest::Url;

use crate::service::{ErrorCode, ServiceError};

/// Parses and checks a webhook URL against the node's listen address `own`.
pub fn check_url(text: &str, own: SocketAddr) -> Result<Url, ServiceError> {
    if text.len() > MAX_URL_LEN {
        return Err(ServiceError::new(
            ErrorCode::InvalidRequest,
            format!("a webhook URL has at most {MAX_URL_LEN} bytes"),
        ));
    }
    let url = Url::parse(text).map_err(|err| {
        ServiceError::new(
            ErrorCode::WebhookUrlScheme,
            format!("the webhook URL is not an http(s) URL: {err}"),
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ServiceError::new(
            ErrorCode::WebhookUrlScheme,
            format!("a webhook URL is http or https, not {}", url.scheme()),
        ));
    }
    let Some(host) = url.host_str() else {
        return Err(ServiceError::new(
            ErrorCode::WebhookUrlScheme,
            "the webhook URL names no host",
        ));
    };
    if points_at(host, url.port_or_known_default(), own) {
        return Err(ServiceError::new(
            ErrorCode::WebhookUrlSelf,
            "the webhook URL points at this node itself",
        ));
    }
    Ok(url)
}

/// Whether `host:port` reaches the node listening on `own`: the same port on the
/// listen address, a loopback or unspecified address, or `localhost`.
fn points_at(host: &str, port: Option<u16>, own: SocketAddr) -> bool {
    if port != Some(own.port()) {
        return false;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            ip == own.ip()
                || ip.is_loopback()
                || ip.is_unspecified()
                || own.ip().is_unspecified()
                || ip.to_canonical() == own.ip().to_canonical()
        }
        // A name other than localhost on the same port: the node cannot tell where it
        // resolves without resolving it; only a node listening on every address refuses it.
        Err(_) => own.ip().is_unspecified(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> SocketAddr {
        "127.0.0.1:8700".parse().expect("addr")
    }

    fn code(text: &str) -> Option<ErrorCode> {
        check_url(text, own()).err().map(|err| err.code)
    }

    #[test]
    fn http_and_https_elsewhere_are_accepted() {
        assert_eq!(code("http://127.0.0.1:9000/hook"), None);
        assert_eq!(code("https://insurer.example/carchain"), None);
        assert_eq!(code("http://localhost:8701/"), None);
    }

    #[test]
    fn other_schemes_are_refused() {
        for url in [
            "ftp://x.example/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "not a url",
            "",
        ] {
            assert_eq!(code(url), Some(ErrorCode::WebhookUrlScheme), "{url}");
        }
    }

    #[test]
    fn the_node_itself_is_refused() {
        for url in [
            "http://127.0.0.1:8700/v1/tx",
            "http://localhost:8700/",
            "https://LOCALHOST:8700/",
            "http://[::1]:8700/",
            "http://0.0.0.0:8700/",
            "http://127.0.0.2:8700/",
        ] {
            assert_eq!(code(url), Some(ErrorCode::WebhookUrlSelf), "{url}");
        }
        let any: SocketAddr = "0.0.0.0:80".parse().expect("addr");
        assert_eq!(
            check_url("http://node.example/", any).err().map(|e| e.code),
            Some(ErrorCode::WebhookUrlSelf)
        );
    }

    #[test]
    fn overlong_urls_are_refused() {
        let url = format!("https://x.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(code(&url), Some(ErrorCode::InvalidRequest));
    }
}
