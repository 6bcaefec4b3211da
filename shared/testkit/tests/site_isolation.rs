//! THE site isolation test: with the real migrations, one site can neither
//! read, update nor delete another site's rows through `SiteDb`, and a
//! statement that forgets the site filter is refused before it runs.

use sealpost_ports::{PortError, SiteDb, SiteId, Sql, Statement};
use sealpost_testkit::{SqliteDb, block_on};

const INSERT_USER: &str = "INSERT INTO users (site_id, id, email, display_name, password_hash, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";

#[derive(Debug, serde::Deserialize, PartialEq)]
struct User {
    id: String,
    site_id: String,
    email: String,
    display_name: String,
}

fn create_site(db: &SqliteDb, id: &str, host: &str) {
    block_on(
        db.batch(&[
            Statement::new("INSERT INTO sites (id, name, created_at) VALUES (?1, ?2, ?3)")
                .bind(id)
                .bind("Other")
                .bind("2026-11-23T12:00:00Z"),
            Statement::new("INSERT INTO site_hosts (host, site_id) VALUES (?1, ?2)")
                .bind(host)
                .bind(id),
        ]),
    )
    .expect("create site");
}

fn setup() -> (SqliteDb, SiteId, SiteId) {
    let db = SqliteDb::open_migrated();
    let a = SiteId::default_site();
    let b = SiteId::parse("other").unwrap();
    create_site(&db, b.as_str(), "other.example");
    let site_a = SiteDb::new(&db, a.clone());
    let inserted = block_on(
        site_a.execute(
            &site_a
                .statement(INSERT_USER)
                .bind("u-a")
                .bind("alice@example.com")
                .bind("Alice")
                .bind("$argon2id$secret")
                .bind("2026-11-23T12:00:00Z"),
        ),
    )
    .expect("insert through site A");
    assert_eq!(inserted.changes, 1);
    (db, a, b)
}

fn alice_through_a(db: &SqliteDb, a: &SiteId) -> Option<User> {
    let site_a = SiteDb::new(db, a.clone());
    block_on(site_a.query_one(
        &site_a
            .statement("SELECT id, site_id, email, display_name FROM users WHERE site_id = ?1 AND id = ?2")
            .bind("u-a"),
    ))
    .unwrap()
}

#[test]
fn a_site_cannot_read_update_or_delete_another_sites_rows_and_unscoped_statements_are_refused() {
    let (db, a, b) = setup();
    let site_b = SiteDb::new(&db, b.clone());

    // Site A sees its row.
    let alice = alice_through_a(&db, &a).expect("A reads its own row");
    assert_eq!(alice.site_id, "default");

    // Site B cannot read it: by id, by e-mail, or by listing.
    let by_id: Vec<User> = block_on(site_b.query_as(
        &site_b
            .statement("SELECT id, site_id, email, display_name FROM users WHERE site_id = ?1 AND id = ?2")
            .bind("u-a"),
    ))
    .unwrap();
    assert!(by_id.is_empty());
    let listed =
        block_on(site_b.query(&site_b.statement("SELECT * FROM users WHERE site_id = ?1")))
            .unwrap();
    assert!(listed.is_empty());
    let by_email: Option<User> = block_on(site_b.query_one(
        &site_b
            .statement("SELECT id, site_id, email, display_name FROM users WHERE site_id = ?1 AND email = ?2")
            .bind("alice@example.com"),
    ))
    .unwrap();
    assert_eq!(by_email, None);

    // Site B cannot update it.
    let updated = block_on(
        site_b.execute(
            &site_b
                .statement("UPDATE users SET display_name = ?2 WHERE site_id = ?1 AND id = ?3")
                .bind("Mallory")
                .bind("u-a"),
        ),
    )
    .unwrap();
    assert_eq!(updated.changes, 0);

    // Site B cannot delete it.
    let deleted = block_on(
        site_b.execute(
            &site_b
                .statement("DELETE FROM users WHERE site_id = ?1 AND id = ?2")
                .bind("u-a"),
        ),
    )
    .unwrap();
    assert_eq!(deleted.changes, 0);

    // Site B cannot clobber it through an upsert on the global primary key.
    let upsert = block_on(
        site_b.execute(
            &site_b
                .statement(&format!(
                    "{INSERT_USER} ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name \
                     WHERE site_id = ?1"
                ))
                .bind("u-a")
                .bind("alice@example.com")
                .bind("Mallory")
                .bind("x")
                .bind("2026-11-23T12:00:00Z"),
        ),
    )
    .unwrap();
    assert_eq!(upsert.changes, 0);

    // Statements without the site filter are refused before they run.
    let unscoped = [
        site_b.statement("SELECT * FROM users"),
        site_b
            .statement("SELECT * FROM users WHERE id = ?2")
            .bind("u-a"),
        site_b
            .statement("UPDATE users SET display_name = ?2 WHERE id = ?3")
            .bind("Mallory")
            .bind("u-a"),
        site_b
            .statement("DELETE FROM users WHERE id = ?2")
            .bind("u-a"),
        site_b
            .statement("UPDATE users SET site_id = ?2 WHERE site_id = ?1")
            .bind("default"),
        site_b
            .statement(&INSERT_USER.replace("INSERT", "INSERT OR REPLACE"))
            .bind("u-a")
            .bind("alice@example.com")
            .bind("Mallory")
            .bind("x")
            .bind("2026-11-23T12:00:00Z"),
        // Site A's id smuggled in as ?1 through B's handle.
        Statement::new("DELETE FROM users WHERE site_id = ?1").bind("default"),
        Statement::new("SELECT * FROM users WHERE site_id = ?1").bind(&a),
    ];
    for stmt in &unscoped {
        let query = block_on(site_b.query(stmt));
        assert!(
            matches!(query, Err(PortError::Unscoped(_))),
            "{stmt:?}: {query:?}"
        );
        let exec = block_on(site_b.execute(stmt));
        assert!(
            matches!(exec, Err(PortError::Unscoped(_))),
            "{stmt:?}: {exec:?}"
        );
        let batch = block_on(site_b.batch(std::slice::from_ref(stmt)));
        assert!(
            matches!(batch, Err(PortError::Unscoped(_))),
            "{stmt:?}: {batch:?}"
        );
    }

    // A batch with one unscoped statement runs nothing at all.
    let mixed = block_on(
        site_b.batch(&[
            site_b
                .statement(INSERT_USER)
                .bind("u-b")
                .bind("bob@example.com")
                .bind("Bob")
                .bind("x")
                .bind("2026-11-23T12:00:00Z"),
            site_b
                .statement("DELETE FROM users WHERE id = ?2")
                .bind("u-a"),
        ]),
    );
    assert!(matches!(mixed, Err(PortError::Unscoped(_))), "{mixed:?}");
    let users = block_on(db.query(&Statement::new("SELECT id FROM users"))).unwrap();
    assert_eq!(users.len(), 1, "nothing from the refused batch ran");

    // Site A's row is untouched.
    assert_eq!(alice_through_a(&db, &a), Some(alice));
}

#[test]
fn the_same_email_may_exist_once_per_site() {
    let (db, _a, b) = setup();
    let site_b = SiteDb::new(&db, b);
    let insert = |id: &str| {
        site_b
            .statement(INSERT_USER)
            .bind(id)
            .bind("alice@example.com")
            .bind("Alice on B")
            .bind("x")
            .bind("2026-11-23T12:00:00Z")
    };
    assert_eq!(
        block_on(site_b.execute(&insert("u-b1"))).unwrap().changes,
        1
    );
    assert!(matches!(
        block_on(site_b.execute(&insert("u-b2"))),
        Err(PortError::Constraint(_))
    ));
}

#[test]
fn a_site_that_does_not_exist_cannot_own_rows() {
    let db = SqliteDb::open_migrated();
    let ghost = SiteDb::new(&db, SiteId::parse("ghost").unwrap());
    let res = block_on(
        ghost.execute(
            &ghost
                .statement(INSERT_USER)
                .bind("u-g")
                .bind("g@example.com")
                .bind("G")
                .bind("x")
                .bind("2026-11-23T12:00:00Z"),
        ),
    );
    assert!(matches!(res, Err(PortError::Constraint(_))), "{res:?}");
}
