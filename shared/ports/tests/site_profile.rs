//! A site's name and base URL, read from its `sites` row through the
//! site-scoped handle (SQLite with the real migrations).
use sealpost_ports::{PortError, SiteDb, SiteId, site_base_url, site_profile};
use sealpost_testkit::{SqliteDb, block_on};

#[test]
fn the_default_site_links_to_its_base_url_not_localhost() {
    let db = SqliteDb::open_migrated();
    db.exec_raw("UPDATE sites SET base_url = 'https://News.Example.com/' WHERE id = 'default'");
    let site = SiteDb::new(&db, SiteId::default_site());
    assert_eq!(
        block_on(site_base_url(&site)).unwrap().as_str(),
        "https://news.example.com"
    );
}

#[test]
fn a_site_without_a_base_url_builds_no_links_but_keeps_its_name() {
    let db = SqliteDb::open_migrated();
    let site = SiteDb::new(&db, SiteId::default_site());
    let url = block_on(site_base_url(&site));
    assert!(
        matches!(&url, Err(PortError::NotConfigured(why)) if why.contains("default")),
        "{url:?}"
    );
    assert_eq!(block_on(site_profile(&site)).unwrap().name, "Sealpost");
}

#[test]
fn an_invalid_stored_base_url_builds_no_links() {
    let db = SqliteDb::open_migrated();
    db.exec_raw("UPDATE sites SET base_url = 'http://blog.example.com' WHERE id = 'default'");
    let url = block_on(site_base_url(&SiteDb::new(&db, SiteId::default_site())));
    assert!(
        matches!(&url, Err(PortError::NotConfigured(why)) if why.contains("invalid")),
        "{url:?}"
    );
}

#[test]
fn a_site_without_a_row_is_not_configured() {
    let db = SqliteDb::open_migrated();
    let profile = block_on(site_profile(&SiteDb::new(
        &db,
        SiteId::parse("nosuch").unwrap(),
    )));
    assert!(
        matches!(&profile, Err(PortError::NotConfigured(_))),
        "{profile:?}"
    );
}
