//! `sealpost-admin upsert-sql --site SITE`: prints the SQL that creates or
//! promotes the admin whose address and password are read from the
//! environment (`SEALPOST_ADMIN_EMAIL`, `SEALPOST_ADMIN_PASSWORD`), never from
//! the command line where other users could see them.
use std::io::Write;
use std::process::ExitCode;

use sealpost_ports::SiteId;

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

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut site = "default".to_owned();
    match args.as_slice() {
        [cmd] if cmd == "upsert-sql" => {}
        [cmd, flag, value] if cmd == "upsert-sql" && flag == "--site" => site = value.clone(),
        _ => return Err("usage: sealpost-admin upsert-sql [--site SITE]".into()),
    }
    let site = SiteId::parse(&site).map_err(|_| "not a valid site id")?;
    let email =
        std::env::var("SEALPOST_ADMIN_EMAIL").map_err(|_| "SEALPOST_ADMIN_EMAIL is not set")?;
    let password = std::env::var("SEALPOST_ADMIN_PASSWORD")
        .map_err(|_| "SEALPOST_ADMIN_PASSWORD is not set")?;
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)?;
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let now = sealpost_ports::rfc3339(i64::try_from(now)?);
    Ok(sealpost_admin::upsert_sql(
        &site, &email, &password, &id, &now,
    )?)
}
