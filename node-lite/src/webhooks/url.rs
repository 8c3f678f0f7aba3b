//! Which webhook URLs a node accepts: `http` or `https` only, at most
//! [`MAX_URL_LEN`] bytes, with a host, and never the node's own API (a hook pointing
//! at the node would make it POST to itself). A node set to refuse private destinations
//! also refuses a host that is a non-public address ([`is_public`]) or `localhost`; a
//! name is checked again each time it resolves (`send`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use carchain_core::grants::webhook::MAX_URL_LEN;
use reqwest::Url;

use crate::service::{ErrorCode, ServiceError};

/// Parses and checks a webhook URL against the node's listen address `own` (and, with
/// `refuse_private`, against non-public destinations).
pub fn check_url(text: &str, own: SocketAddr, refuse_private: bool) -> Result<Url, ServiceError> {
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
    if refuse_private && !public_host(host) {
        return Err(ServiceError::new(
            ErrorCode::WebhookUrlPrivate,
            "this node sends webhooks to public addresses only",
        ));
    }
    Ok(url)
}

/// Whether a URL's host (a name, or an address in brackets or not) may be public: a
/// name other than `localhost` (checked again when it resolves), or a public address.
pub fn public_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let lower = bare.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return false;
    }
    match bare.parse::<IpAddr>() {
        Ok(ip) => is_public(ip),
        Err(_) => true,
    }
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918, unique
/// local), link-local, carrier-grade NAT shared space, unspecified, broadcast,
/// multicast, documentation or reserved; an IPv4-mapped IPv6 address as its IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19)))
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0])
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
        check_url(text, own(), false).err().map(|err| err.code)
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
            check_url("http://node.example/", any, false)
                .err()
                .map(|e| e.code),
            Some(ErrorCode::WebhookUrlSelf)
        );
    }

    #[test]
    fn private_destinations_are_refused_only_when_asked() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://localhost:9000/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0:9/",
            "http://[::1]:9/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert_eq!(
                check_url(url, own(), true).err().map(|e| e.code),
                Some(ErrorCode::WebhookUrlPrivate),
                "{url}"
            );
            assert_ne!(
                check_url(url, own(), false).err().map(|e| e.code),
                Some(ErrorCode::WebhookUrlPrivate),
                "{url}"
            );
        }
        for url in [
            "https://insurer.example/hook",
            "http://93.184.215.14/",
            "http://[2606:4700::1111]/",
        ] {
            assert!(check_url(url, own(), true).is_ok(), "{url}");
        }
    }

    #[test]
    fn overlong_urls_are_refused() {
        let url = format!("https://x.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(code(&url), Some(ErrorCode::InvalidRequest));
    }
}
