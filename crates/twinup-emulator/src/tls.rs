//! TLS for the emulator: a throw-away CA and a leaf certificate for `127.0.0.1`, `localhost` and
//! the instances' data-plane host names, made with rcgen, written as PEM files (the CA is what
//! clients must trust), and the rustls acceptor that serves them.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::errors::EmulatorError;

/// The acceptor plus the path of the CA certificate clients should trust.
pub(crate) struct TlsSetup {
    pub acceptor: TlsAcceptor,
    pub ca_cert: PathBuf,
}

fn tls_err(what: &str) -> impl Fn(rcgen::Error) -> EmulatorError + '_ {
    move |e| EmulatorError::Tls(format!("{what}: {e}"))
}

fn write_private(path: &Path, content: &str) -> Result<(), EmulatorError> {
    crate::store::write_atomic(path, content.as_bytes())
        .map_err(|e| EmulatorError::Tls(format!("cannot write {}: {e}", path.display())))
}

/// Creates a CA and a server certificate in `dir` and the acceptor serving them.
pub(crate) fn setup(dir: &Path) -> Result<TlsSetup, EmulatorError> {
    fs::create_dir_all(dir)
        .map_err(|e| EmulatorError::Tls(format!("cannot create {}: {e}", dir.display())))?;
    let ca_key = KeyPair::generate().map_err(tls_err("generating the CA key"))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(tls_err("CA parameters"))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "twinup emulator local CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(tls_err("signing the CA certificate"))?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let leaf_key = KeyPair::generate().map_err(tls_err("generating the server key"))?;
    let mut names = vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        "::1".to_string(),
    ];
    // The host names the emulator gives instances (`dataplane.rs`), one wildcard per region,
    // so a client that resolves an instance's host to the emulator can verify it over TLS.
    names.extend(
        crate::regions::host_name_codes()
            .map(|code| format!("*.api.{code}.digitaltwins.azure.net")),
    );
    let mut leaf_params =
        CertificateParams::new(names).map_err(tls_err("server certificate parameters"))?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "twinup emulator");
    leaf_params.is_ca = IsCa::NoCa;
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(tls_err("signing the server certificate"))?;

    let ca_path = dir.join("ca.pem");
    write_private(&ca_path, &ca_cert.pem())?;
    write_private(&dir.join("server.pem"), &leaf_cert.pem())?;
    write_private(&dir.join("server-key.pem"), &leaf_key.serialize_pem())?;

    let chain = vec![
        CertificateDer::from(leaf_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| EmulatorError::Tls(format!("protocol versions: {e}")))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| EmulatorError::Tls(format!("server certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsSetup {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_cert: ca_path,
    })
}
