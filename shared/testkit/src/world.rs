//! [`Base`]: what every core's test world stands on — D1 as SQLite with the
//! real migrations, a manual clock, seeded randomness and a [`TokenMint`]
//! with its verifier — and the helpers they share: raw SQL, and a user with
//! a live session and an access token. Each core's world adds its own
//! doubles and route helpers around it.
use sealpost_guard::{Role, Verifier};
use sealpost_ports::{Clock, Sql, Statement};
use serde_json::Value;

use crate::{ManualClock, SeededRng, SqliteDb, TokenMint, block_on, seed};

/// A signed-in user: its id, its session and an access token for it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: String,
    pub session: String,
    pub token: String,
}

/// The shared part of a test world.
#[derive(Debug)]
pub struct Base {
    pub db: SqliteDb,
    pub clock: ManualClock,
    pub rng: SeededRng,
    pub mint: TokenMint,
    /// Knows [`Base::mint`]'s key.
    pub verifier: Verifier,
}

impl Base {
    /// A migrated database, the clock at `start_ms`, randomness from `seed`
    /// and the default [`TokenMint`].
    pub fn new(start_ms: i64, seed: u64) -> Base {
        let mint = TokenMint::default();
        Base {
            db: SqliteDb::open_migrated(),
            clock: ManualClock::new(start_ms),
            rng: SeededRng::new(seed),
            verifier: mint.verifier(),
            mint,
        }
    }

    /// Runs `stmt`.
    ///
    /// # Panics
    /// If it fails.
    pub fn sql(&self, stmt: Statement) {
        block_on(self.db.execute(&stmt)).expect("sql");
    }

    /// Every row of `stmt`, as JSON objects.
    ///
    /// # Panics
    /// If the query fails.
    pub fn rows(&self, stmt: Statement) -> Vec<Value> {
        block_on(self.db.query(&stmt))
            .expect("query")
            .into_iter()
            .map(Value::Object)
            .collect()
    }

    /// The first column of every row `sql` selects.
    ///
    /// # Panics
    /// If the query fails.
    pub fn column(&self, sql: &str) -> Vec<Value> {
        block_on(self.db.query(&Statement::new(sql)))
            .expect("query")
            .into_iter()
            .filter_map(|r| r.into_iter().next().map(|(_, v)| v))
            .collect()
    }

    /// The first column of the first row of `sql` (`null` when none).
    pub fn scalar(&self, sql: &str) -> Value {
        self.column(sql).into_iter().next().unwrap_or(Value::Null)
    }

    /// User `user-{name}` with `roles` ([`seed::user`]) and a live session
    /// opened now with `amr`, and an access token for that session.
    pub fn signed_in(&self, name: &str, roles: &[Role], amr: &[&str]) -> SignedIn {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let (id, session) = seed::user(&self.db, name, &names, amr, self.clock.now_ms());
        let token = self
            .mint
            .access(&id, &session, roles, amr, self.clock.now_secs());
        SignedIn { id, session, token }
    }

    /// [`Base::signed_in`]'s token only.
    pub fn user(&self, name: &str, roles: &[Role], amr: &[&str]) -> String {
        self.signed_in(name, roles, amr).token
    }
}

/// Lets a test world that keeps its [`Base`] in a field `base` be used as
/// one (`w.db`, `w.clock`, `w.user(..)`): implements `Deref<Target = Base>`.
#[macro_export]
macro_rules! world_on_base {
    ($world:ty) => {
        impl ::std::ops::Deref for $world {
            type Target = $crate::Base;

            fn deref(&self) -> &$crate::Base {
                &self.base
            }
        }
    };
}
