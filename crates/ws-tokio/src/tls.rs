//! TLS with rustls (the `rustls` feature): `wss://` for clients, an acceptor for servers,
//! and (the `native-roots` feature) a client configuration trusting the platform's store.

use std::io;
use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::{TlsConnector, client::TlsStream};

pub use tokio_rustls::{TlsAcceptor, rustls};

/// The client configuration used when none is given: the Mozilla roots from
/// `webpki-roots`, no client certificate. Built once per process.
pub(crate) fn default_client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            client_config(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        })
        .clone()
}

/// A client configuration trusting the platform's certificate store instead of the
/// webpki roots, for `ConnectOptions::tls_config` (the `native-roots` feature).
///
/// The store is what `rustls-native-certs` finds: on Linux the distribution's bundle, or
/// the files that `SSL_CERT_FILE` and `SSL_CERT_DIR` name; the keychain on macOS; the
/// system store on Windows. Certificates that cannot be read or parsed are skipped;
/// [`Error::NoNativeRoots`](crate::Error::NoNativeRoots) only when not one remains.
/// Loading parses the whole store, so build the configuration once and share the `Arc`.
/// No client certificate.
#[cfg(feature = "native-roots")]
pub fn native_roots_config() -> Result<Arc<ClientConfig>, crate::Error> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _unparsable) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let reasons: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        let reasons = if reasons.is_empty() {
            "the store holds no certificate".to_owned()
        } else {
            reasons.join("; ")
        };
        return Err(crate::Error::NoNativeRoots(reasons));
    }
    Ok(client_config(roots))
}

fn client_config(roots: RootCertStore) -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// The TLS handshake with `host` over `io` (TCP, or the TLS of an `https://` proxy).
pub(crate) async fn connect<IO: AsyncRead + AsyncWrite + Unpin>(
    config: Arc<ClientConfig>,
    host: &str,
    io: IO,
) -> io::Result<TlsStream<IO>> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    TlsConnector::from(config).connect(name, io).await
}

/// The crypto provider this crate's features enable, named rather than taken from the
/// process default: `ClientConfig::builder()` panics when a program links a second
/// provider (aws-lc-rs through another dependency) and installed none as the default.
fn ring_provider() -> Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}
