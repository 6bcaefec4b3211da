//! The keys `AUTH_DATA_KEY` derives are the ones earlier releases derived:
//! TOTP secrets, recovery codes and lockout counters stored under them keep
//! working.
use sealpost_auth_core::secrets::AuthSecrets;
use sealpost_auth_core::tokens::SigningKey;
use sealpost_auth_core::totp;

fn secrets() -> AuthSecrets {
    let signing = SigningKey::from_scalar(&[3u8; 32]).expect("scalar");
    AuthSecrets::from_parts(signing, &[9u8; 32], None).expect("secrets")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_recovery_code_key_is_the_one_earlier_releases_derived() {
    assert_eq!(
        hex(secrets().recovery_key()),
        "f2a306b32ee49f3a8a0ab2992fa55b8285f563767cd39aceaed4b308747e1924"
    );
}

#[test]
fn the_ip_and_email_hashes_are_the_ones_earlier_releases_wrote() {
    let s = secrets();
    assert_eq!(s.ip_hash("1.2.3.4"), "d2c8cfd835eecd920b63b0e672d15b91");
    assert_eq!(
        s.email_hash("a@example.com"),
        "a7ddce3b2fa216b561e807cba29e900f"
    );
}

#[test]
fn a_totp_secret_sealed_under_the_derived_key_by_an_earlier_release_opens() {
    let stored = "AAECAwQFBgcICQoLtxARU-Vb-iObN5Xot5gn41qfC2NjAB0LdsK70lxMxQxKl-Sz";
    let opened = totp::open_secret(&secrets().totp, "user-1", stored).expect("opens");
    assert_eq!(opened.as_slice(), b"12345678901234567890");
}
