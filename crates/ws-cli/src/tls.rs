//! TLS set-up: the client configuration (webpki roots, or `--insecure`), the server's
//! acceptor from PEM files.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    ClientConfig, DigitallySignedStruct, Error, RootCertStore, ServerConfig, SignatureScheme,
};

use crate::error::CliError;

/// The client configuration: the Mozilla roots, or with `insecure` no certificate check.
pub(crate) fn client_config(insecure: bool) -> Arc<ClientConfig> {
    let config = if insecure {
        ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate::new()))
            .with_no_client_auth()
    } else {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth()
    };
    Arc::new(config)
}

/// `--insecure`: any certificate is accepted, whoever it names and whoever signed it.
/// The handshake signatures are still checked, so the peer must hold the key of the
/// certificate it shows, but nothing ties that certificate to the server asked for: an
/// attacker on the path can present their own. Only for testing against self-signed
/// servers.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AcceptAnyCertificate {
    fn new() -> AcceptAnyCertificate {
        let algorithms = CryptoProvider::get_default()
            .map(|provider| provider.signature_verification_algorithms)
            .unwrap_or(
                tokio_rustls::rustls::crypto::ring::default_provider()
                    .signature_verification_algorithms,
            );
        AcceptAnyCertificate { algorithms }
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server's TLS acceptor from a PEM certificate chain and a PEM private key.
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, CliError> {
    let chain = read(cert)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<_, _>>()
        .map_err(|error| pem_error(cert, &error))?;
    if chain.is_empty() {
        return Err(CliError::Pem {
            path: cert.to_owned(),
            what: "no CERTIFICATE block".into(),
        });
    }
    let key_pem = read(key)?;
    let key_der =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| pem_error(key, &error))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    // HTTP/2 first (WebSockets on its streams, RFC 8441), HTTP/1.1 for everyone else; a
    // client that asks for neither (most WebSocket clients) gets HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

fn pem_error(path: &Path, error: &tokio_rustls::rustls::pki_types::pem::Error) -> CliError {
    CliError::Pem {
        path: path.to_owned(),
        what: format!("not usable PEM: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("ws-cli-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn error_of(cert: &Path, key: &Path) -> String {
        match acceptor(cert, key) {
            Ok(_) => panic!("{} and {} accepted", cert.display(), key.display()),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn acceptor_errors_name_the_file() {
        let missing = Path::new("/nonexistent/cert.pem");
        let error = error_of(missing, missing);
        assert!(
            error.starts_with("cannot read /nonexistent/cert.pem"),
            "{error}"
        );

        let empty = temp_file("empty.pem", "nothing here\n");
        let error = error_of(&empty, &empty);
        assert!(error.contains("no CERTIFICATE block"), "{error}");

        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert_path = temp_file("cert.pem", &cert.cert.pem());
        let error = error_of(&cert_path, &empty);
        assert!(error.contains("empty.pem: not usable PEM"), "{error}");

        let key_path = temp_file("key.pem", &cert.signing_key.serialize_pem());
        assert!(acceptor(&cert_path, &key_path).is_ok());
        for path in [empty, cert_path, key_path] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn insecure_config_builds() {
        let config = client_config(true);
        assert!(!config.crypto_provider().cipher_suites.is_empty());
    }
}
