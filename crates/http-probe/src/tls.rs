//! TLS for `https://` URLs, over rustls with the ring provider.
//!
//! A health check asks the local server whether it serves; it does not authenticate it.
//! The server's certificate is therefore not verified (self-signed and expired certificates,
//! names that do not match `localhost`: all are accepted, as `curl -k` would), while the
//! handshake itself is checked as TLS requires (the server's signature over the handshake
//! with the key of the certificate it sent). Nothing here runs for `http://` URLs: the
//! configuration is built at the first https request.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::net::TcpStream;
use std::sync::Arc;

/// A TLS stream over a TCP connection.
pub type TlsStream = rustls::StreamOwned<ClientConnection, TcpStream>;

/// Accepts any certificate, checks the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Start a TLS client session for `host` over `tcp` (the handshake runs on the first read
/// or write, under the socket timeouts the caller sets).
pub fn connect(host: &str, tcp: TcpStream) -> Result<TlsStream, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| rustls::Error::General(format!("{host} is no server name")))?;
    let connection = ClientConnection::new(Arc::new(config), name)?;
    Ok(rustls::StreamOwned::new(connection, tcp))
}
