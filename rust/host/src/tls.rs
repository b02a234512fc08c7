//! TLS for the host link and the simulator: the settings ([`TlsSettings`], always present) and,
//! with the cargo feature `tls`, the rustls client and server configurations (ring provider,
//! TLS 1.2 and 1.3).
//!
//! Without the feature a [`crate::LinkConfig`] asking for TLS fails at connect with
//! `LinkError::NotSent("this build has no TLS; build with feature tls")`: nothing is ever sent
//! in clear to a host that expects TLS.

/// Which certificate authorities the link trusts.
#[derive(Clone, PartialEq, Eq)]
pub enum TlsRoots {
    /// The operating system's store (`rustls-native-certs`: the OpenSSL directories on Linux,
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` override them).
    System,
    /// These PEM certificates (one or more `BEGIN CERTIFICATE` blocks), e.g. the acquirer's CA.
    Pem(Vec<u8>),
}

impl std::fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsRoots::System => f.write_str("System"),
            TlsRoots::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
        }
    }
}

/// TLS on the host link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The CAs the host's certificate must chain to.
    pub roots: TlsRoots,
    /// The name the host's certificate must carry (DNS name or IP address). `None`: the host
    /// part of [`crate::LinkConfig::address`].
    pub server_name: Option<String>,
}

impl TlsSettings {
    /// TLS trusting the system's CAs, checking the address's host name.
    pub fn system() -> TlsSettings {
        TlsSettings {
            roots: TlsRoots::System,
            server_name: None,
        }
    }

    /// TLS trusting only the CAs in `pem`, checking the address's host name.
    pub fn pem(pem: impl Into<Vec<u8>>) -> TlsSettings {
        TlsSettings {
            roots: TlsRoots::Pem(pem.into()),
            server_name: None,
        }
    }

    /// The name to check: [`TlsSettings::server_name`], else the host part of `address`
    /// (`host:port`, `[v6]:port`, or a bare host).
    pub fn name_for(&self, address: &str) -> String {
        if let Some(name) = &self.server_name {
            return name.clone();
        }
        host_part(address).to_string()
    }
}

/// Why a configuration asking for TLS fails in a build without the feature `tls`.
pub const NO_TLS: &str = "this build has no TLS; build with feature tls";

impl TlsSettings {
    /// Checks the settings as the link will use them for `address` (the trusted CAs load, the
    /// server name is valid), without connecting: for a command line to refuse bad flags
    /// before any transaction is journaled.
    pub fn check(&self, address: &str) -> Result<(), String> {
        #[cfg(feature = "tls")]
        {
            client(self, address).map(|_| ())
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = address;
            Err(NO_TLS.to_string())
        }
    }
}

/// `host` of `host:port`, `v6` of `[v6]:port`; the text itself when it has no port.
pub fn host_part(address: &str) -> &str {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        // More than one colon and no brackets: a bare IPv6 address.
        Some((host, _)) if host.contains(':') => address,
        Some((host, _)) => host,
        None => address,
    }
}

#[cfg(feature = "tls")]
pub(crate) use enabled::*;

#[cfg(feature = "tls")]
mod enabled {
    use std::sync::Arc;

    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};

    use super::{TlsRoots, TlsSettings};

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// Every certificate of a PEM text; an error when there is none or one is broken.
    pub(crate) fn certificates(
        pem: &[u8],
        what: &str,
    ) -> Result<Vec<CertificateDer<'static>>, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{what}: not a readable PEM certificate ({e})"))?;
        if certs.is_empty() {
            return Err(format!(
                "{what}: no certificate found (expected -----BEGIN CERTIFICATE----- blocks)"
            ));
        }
        Ok(certs)
    }

    fn root_store(roots: &TlsRoots) -> Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        match roots {
            TlsRoots::System => {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    log::warn!("host link: a system CA certificate could not be loaded: {e}");
                }
                let (added, _) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(
                        "no usable CA certificate in the system store (install ca-certificates, set SSL_CERT_FILE, or trust the host's CA with a PEM file)"
                            .to_string(),
                    );
                }
            }
            TlsRoots::Pem(pem) => {
                for cert in certificates(pem, "the trusted CA")? {
                    store
                        .add(cert)
                        .map_err(|e| format!("the trusted CA: not usable as a root ({e})"))?;
                }
            }
        }
        Ok(store)
    }

    /// The client side: the configuration and the name to check.
    pub(crate) fn client(
        settings: &TlsSettings,
        address: &str,
    ) -> Result<(tokio_rustls::TlsConnector, ServerName<'static>), String> {
        let name_text = settings.name_for(address);
        let name = ServerName::try_from(name_text.clone()).map_err(|e| {
            format!(
                "{name_text:?} is not a valid TLS server name ({e}); set the server name explicitly"
            )
        })?;
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(root_store(&settings.roots)?)
            .with_no_client_auth();
        Ok((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
    }

    /// The server side: a certificate chain and its private key, both PEM.
    pub(crate) fn server(
        cert_chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<tokio_rustls::TlsAcceptor, String> {
        let chain = certificates(cert_chain_pem, "the server certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| format!("the server key: no readable PEM private key ({e})"))?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the server certificate and key do not go together: {e}"))?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_host_part_unless_given() {
        assert_eq!(host_part("acquirer.example:5000"), "acquirer.example");
        assert_eq!(host_part("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(host_part("[::1]:5000"), "::1");
        assert_eq!(host_part("::1"), "::1");
        assert_eq!(host_part("host"), "host");
        let named = TlsSettings {
            server_name: Some("pos.acquirer.cn".into()),
            ..TlsSettings::system()
        };
        assert_eq!(named.name_for("10.0.0.1:5000"), "pos.acquirer.cn");
        assert_eq!(
            TlsSettings::pem(b"x".to_vec()).name_for("h.example:1"),
            "h.example"
        );
    }
}
