//! `sealpost-admin upsert-sql [--site SITE] [--promote]`: prints the SQL that
//! creates the admin whose address and password are read from the environment
//! (`SEALPOST_ADMIN_EMAIL`, `SEALPOST_ADMIN_PASSWORD`), never from the command
//! line where other users could see them. Without `--promote` the SQL fails on
//! an address that already has an account, writing nothing; with it, that
//! account is taken over (the given password, no second factor, no session).
use std::io::Write;
use std::process::ExitCode;

use sealpost_admin::{Existing, Ids};
use sealpost_ports::SiteId;

const USAGE: &str = "usage: sealpost-admin upsert-sql [--site SITE] [--promote]";

fn main() -> ExitCode {
    match run() {
        Ok(sql) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(sql.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "sealpost-admin: {e}");
            ExitCode::from(2)
        }
    }
}

fn random_id() -> Result<String, getrandom::Error> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)?;
    Ok(id.iter().map(|b| format!("{b:02x}")).collect())
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    // `site-sql …`: the statements of `scripts/site` (sealpost_admin::site).
    if std::env::args().nth(1).as_deref() == Some("site-sql") {
        return sealpost_admin::site::cli(std::env::args().skip(2));
    }
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("upsert-sql") {
        return Err(USAGE.into());
    }
    let mut site = "default".to_owned();
    let mut existing = Existing::Refuse;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--site" => site = args.next().ok_or(USAGE)?,
            "--promote" => existing = Existing::Promote,
            _ => return Err(USAGE.into()),
        }
    }
    let site = SiteId::parse(&site).map_err(|_| "not a valid site id")?;
    let email =
        std::env::var("SEALPOST_ADMIN_EMAIL").map_err(|_| "SEALPOST_ADMIN_EMAIL is not set")?;
    let password = std::env::var("SEALPOST_ADMIN_PASSWORD")
        .map_err(|_| "SEALPOST_ADMIN_PASSWORD is not set")?;
    let ids = Ids {
        user: random_id()?,
        event: random_id()?,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    Ok(sealpost_admin::admin_sql(
        &site,
        &email,
        &password,
        existing,
        &ids,
        i64::try_from(now)?,
    )?)
}
