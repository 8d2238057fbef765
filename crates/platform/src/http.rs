//! Outbound HTTP clients: rustls on ring, the one crypto provider of the process.

/// A reqwest client builder with the process's rustls crypto provider installed. Every
/// reqwest client of the project is built from here: without a provider reqwest panics.
pub fn client_builder() -> reqwest::ClientBuilder {
    // A second install is refused and changes nothing; the first one wins.
    // rustls deprecates its ring provider for lacking the post-quantum key exchange
    // (X25519MLKEM768), which only aws-lc-rs offers; ring keeps the build free of a C
    // toolchain and the binaries small. Moving to aws-lc-rs is a decision of its own.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
