//! Sending to public addresses only (`--webhook-public-only`): the HTTP client resolves
//! a hook's host name through [`PublicOnly`], which keeps only public addresses
//! ([`super::url::is_public`]) and fails with [`NotPublic`] when none is left, so a name
//! that resolves (or later re-resolves) to a private, loopback or link-local address is
//! never connected to. A host written as an address never reaches a resolver; the
//! sender checks it ([`refused_host`]).

use std::net::SocketAddr;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::url::{is_public, public_host};

/// No public address for a hook's host.
#[derive(Debug, thiserror::Error)]
#[error("the webhook host has no public address")]
pub struct NotPublic;

/// A resolver that answers only public addresses.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether a hook's URL names a host that is not public by itself (an address, or
/// `localhost`): such a host is refused without a connection.
pub fn refused_host(url: &str) -> bool {
    match Url::parse(url) {
        Ok(url) => url.host_str().is_none_or(|host| !public_host(host)),
        Err(_) => true,
    }
}

/// Whether an HTTP error came from [`PublicOnly`] refusing a host.
pub fn is_not_public(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<NotPublic>() {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn names_of_private_addresses_resolve_to_nothing() {
        let name = Name::from_str("localhost").expect("name");
        let refused = PublicOnly.resolve(name).await.err().expect("refused");
        assert!(refused.is::<NotPublic>(), "{refused}");
    }

    #[test]
    fn hosts_written_as_private_addresses_are_refused() {
        assert!(refused_host("http://127.0.0.1:9/h"));
        assert!(refused_host("http://[::1]:9/h"));
        assert!(refused_host("http://LOCALHOST./h"));
        assert!(refused_host("http://10.0.0.8/h"));
        assert!(!refused_host("https://insurer.example/h"));
        assert!(!refused_host("http://93.184.215.14/h"));
    }
}
