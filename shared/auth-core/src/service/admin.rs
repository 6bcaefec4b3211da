//! The admin tables: users (search, paging, roles) and the audit log.
use sealpost_api::body::parse_json;
use sealpost_api::query::OffsetPaging;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, PageInfo, Validator};
use sealpost_guard::{AccessClaims, Role, require_staff};
use sealpost_ports::{Clock, Rng, Sql, SqlValue, rfc3339};
use serde_json::json;

use super::{Answer, Auth, Failure, MAX_QUERY_CHARS, RolesInput, conflict};
use crate::accounts::{self, AdminUserItem, USER_COLUMNS, UserRow, canonical_roles, roles_json};
use crate::audit::{self, Event};
use crate::limits::{self};

impl<S: Sql, C: Clock, R: Rng> Auth<'_, S, C, R> {
    // ---- admin -----------------------------------------------------------

    pub(super) async fn admin(&self, input: &ApiRequest) -> Result<AccessClaims, Failure> {
        let claims = self.caller(input).await?;
        require_staff(&claims, Role::Admin)?;
        Ok(claims)
    }

    pub(super) async fn admin_users(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let paging = OffsetPaging::from_query(&input.query)?;
        let q = input.query.get_nonblank("q").map(str::to_lowercase);
        if let Some(q) = &q {
            let mut v = Validator::new();
            v.text_len("q", q, 1, MAX_QUERY_CHARS);
            v.finish()?;
        }
        let (rows, total): (Vec<UserRow>, _) = self
            .db
            .offset_page(
                USER_COLUMNS,
                "FROM users WHERE site_id = ?1 AND (?2 IS NULL OR instr(lower(email), ?2) > 0 \
                 OR instr(lower(display_name), ?2) > 0)",
                &[SqlValue::from(q)],
                "created_at DESC, rowid DESC",
                paging.limit(),
                paging.offset(),
            )
            .await?;
        let page = PageInfo::new(&paging, total);
        let items = self.admin_items(&rows).await?;
        Ok(ApiResponse::offset_list(&items, page))
    }

    pub(super) async fn admin_items(
        &self,
        rows: &[UserRow],
    ) -> Result<Vec<AdminUserItem>, Failure> {
        let keys: Vec<String> = rows
            .iter()
            .map(|r| limits::login_key(&self.secrets.email_hash(&r.email)))
            .collect();
        let locked = limits::locked_until(&self.db, &keys, self.now()).await?;
        Ok(rows
            .iter()
            .zip(&keys)
            .map(|(row, key)| AdminUserItem::new(row, locked.get(key).copied()))
            .collect())
    }

    pub(super) async fn admin_roles(&self, input: &ApiRequest) -> Answer {
        let claims = self.admin(input).await?;
        let body: RolesInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        v.check(
            (1..=3).contains(&body.roles.len()),
            "roles",
            "Must list 1 to 3 roles",
        );
        let mut roles = Vec::new();
        for (i, name) in body.roles.iter().enumerate() {
            match Role::parse(name) {
                Some(r) if roles.contains(&r) => v.add(format!("roles[{i}]"), "Is listed twice"),
                Some(r) => roles.push(r),
                None => v.add(
                    format!("roles[{i}]"),
                    "Must be one of: admin, editor, member",
                ),
            }
        }
        v.finish()?;
        let roles = canonical_roles(roles);
        let id = input.param("id").unwrap_or_default();
        let Some(target) = accounts::by_id(&self.db, id).await? else {
            return Err(ApiError::not_found().with_message("No such user").into());
        };
        let before = target.roles();
        let demotes_admin = before.contains(&Role::Admin) && !roles.contains(&Role::Admin);
        // One statement, so two admins demoting each other cannot both win.
        let changed = self
            .db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE users SET roles = ?3, updated_at = ?4 WHERE site_id = ?1 AND id = ?2 \
                         AND (?5 = 0 OR EXISTS (SELECT 1 FROM users WHERE site_id = ?1 AND id <> ?2 \
                              AND roles LIKE '%\"admin\"%'))",
                    )
                    .bind(id)
                    .bind(roles_json(&roles))
                    .bind(rfc3339(self.now()))
                    .bind(demotes_admin),
            )
            .await?;
        if changed.changes != 1 {
            return Err(conflict("The last admin cannot lose the admin role"));
        }
        self.record(
            &Event::new("roles.changed", Some(id))
                .actor(&claims.sub)
                .detail(json!({
                    "before": accounts::role_names(&before),
                    "after": accounts::role_names(&roles),
                })),
        )
        .await?;
        let updated = accounts::by_id(&self.db, id)
            .await?
            .ok_or_else(|| Failure::Api(ApiError::not_found()))?;
        Ok(ApiResponse::mutation(
            200,
            "Roles updated",
            &self
                .admin_items(std::slice::from_ref(&updated))
                .await?
                .pop(),
        ))
    }

    pub(super) async fn admin_audit(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let paging = OffsetPaging::from_query(&input.query)?;
        let kind = input.query.get_nonblank("type");
        let user_id = input.query.get_nonblank("userId");
        let mut v = Validator::new();
        if let Some(kind) = kind {
            v.one_of("type", kind, &audit::TYPES);
        }
        if let Some(user_id) = user_id {
            v.text_len("userId", user_id, 1, 64);
        }
        v.finish()?;
        let (items, page) = audit::list(&self.db, &paging, kind, user_id).await?;
        Ok(ApiResponse::offset_list(&items, page))
    }
}
