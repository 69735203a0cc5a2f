//! wss:// with a certificate generated for the test.
#![cfg(feature = "rustls")]

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use ws_tokio::tls::TlsAcceptor;
use ws_tokio::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_tokio::tls::rustls::{self, RootCertStore};
use ws_tokio::{ConnectOptions, Error, Message};

#[tokio::test]
async fn wss_echo_with_a_generated_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let server_config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_config));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        // The second connection is the client that does not trust the certificate.
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            let Ok(tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut ws = ws_tokio::accept(tls).await.unwrap();
            while let Some(Ok(message)) = ws.recv().await {
                if message.is_data() {
                    ws.send(message).await.unwrap();
                }
            }
        }
    });

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client_config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!("wss://localhost:{port}/");
    let (mut ws, _) = ConnectOptions::new(&url)
        .unwrap()
        .tls_config(Arc::new(client_config))
        .connect()
        .await
        .unwrap();
    let large = "secret ".repeat(100_000);
    ws.send(Message::text(large.clone())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(20), ws.recv())
        .await
        .unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text(large));
    ws.close(ws_tokio::CloseCode::NORMAL, "").await.unwrap();

    // The default roots do not know the generated certificate.
    let refused = tokio::time::timeout(Duration::from_secs(20), ws_tokio::connect(&url))
        .await
        .unwrap();
    match refused {
        Err(Error::Io(error)) => assert!(error.to_string().contains("certificate"), "{error}"),
        other => panic!("{other:?}"),
    }
}
