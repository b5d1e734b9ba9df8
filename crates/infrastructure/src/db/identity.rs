//! Identity ports on [`Db`]: organizations with their first owner (and the
//! seed rule every organization starts with), users, memberships, refresh
//! tokens and API keys.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::identity::{
    ApiKey, ApiKeyRepository, Email, Member, Membership, MembershipRepository, Organization,
    OrganizationPatch, OrganizationRepository, RefreshToken, RefreshTokenRepository, Role, User,
    UserRepository,
};
use domain::page::{Page, PageRequest};
use domain::{ApiKeyId, RefreshTokenId, RepoError, TenantId, TokenFamilyId, UserId};
use time::OffsetDateTime;

use super::Db;
use super::error::DbError;
use super::rows::{
    ApiKeyRow, MemberRow, MembershipRow, OrganizationRow, RefreshTokenRow, UserRow, convert,
};
use super::rules::{insert_rule, seed_rule};
use super::types::{DbId, db_id};

#[async_trait]
impl OrganizationRepository for Db {
    async fn create_with_owner(&self, org: &Organization, owner: &User) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                diesel::insert_into(organizations::table)
                    .values((
                        organizations::id.eq(db_id(org.id)),
                        organizations::name.eq(&org.name),
                        organizations::created_at.eq(org.created_at),
                        organizations::timezone.eq(&org.timezone),
                    ))
                    .execute(c)
                    .await?;
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(db_id(owner.id)),
                        users::email.eq(&owner.email),
                        users::name.eq(&owner.name),
                        users::password_hash.eq(&owner.password_hash),
                        users::created_at.eq(owner.created_at),
                    ))
                    .execute(c)
                    .await?;
                diesel::insert_into(memberships::table)
                    .values((
                        memberships::tenant_id.eq(db_id(org.id)),
                        memberships::user_id.eq(db_id(owner.id)),
                        memberships::role.eq(Role::Owner.as_str()),
                        memberships::created_at.eq(org.created_at),
                    ))
                    .execute(c)
                    .await?;
                insert_rule!(c, &seed_rule(org.id, org.created_at))?;
                Ok::<_, DbError>(())
            })
            .await
        })
    }

    async fn find(&self, id: TenantId) -> Result<Option<Organization>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = organizations::table
                .filter(organizations::id.eq(db_id(id)))
                .first::<OrganizationRow>(c)
                .await
                .optional()?;
            Ok(row.map(Organization::from))
        })
    }

    async fn update(
        &self,
        id: TenantId,
        patch: &OrganizationPatch,
    ) -> Result<Option<Organization>, RepoError> {
        if patch.is_empty() {
            // An UPDATE without a SET clause is not SQL.
            return OrganizationRepository::find(self, id).await;
        }
        on_db!(&self.pool, |c| {
            let row = diesel::update(organizations::table.filter(organizations::id.eq(db_id(id))))
                .set((
                    patch.name.as_deref().map(|v| organizations::name.eq(v)),
                    patch
                        .timezone
                        .as_deref()
                        .map(|v| organizations::timezone.eq(v)),
                ))
                .get_result::<OrganizationRow>(c)
                .await
                .optional()?;
            Ok(row.map(Organization::from))
        })
    }
}

#[async_trait]
impl UserRepository for Db {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(db_id(user.id)),
                    users::email.eq(&user.email),
                    users::name.eq(&user.name),
                    users::password_hash.eq(&user.password_hash),
                    users::created_at.eq(user.created_at),
                ))
                .execute(c)
                .await?;
            Ok(())
        })
    }

    async fn find(&self, id: UserId) -> Result<Option<User>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = users::table
                .filter(users::id.eq(db_id(id)))
                .first::<UserRow>(c)
                .await
                .optional()?;
            Ok(row.map(User::from))
        })
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = users::table
                .filter(users::email.eq(email.as_str()))
                .first::<UserRow>(c)
                .await
                .optional()?;
            Ok(row.map(User::from))
        })
    }
}

#[async_trait]
impl MembershipRepository for Db {
    async fn add(&self, m: &Membership) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(memberships::table)
                .values((
                    memberships::tenant_id.eq(db_id(m.tenant_id)),
                    memberships::user_id.eq(db_id(m.user_id)),
                    memberships::role.eq(m.role.as_str()),
                    memberships::created_at.eq(m.created_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("user_id"))?;
            Ok(())
        })
    }

    async fn find(&self, t: TenantId, user: UserId) -> Result<Option<Membership>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = memberships::table
                .filter(memberships::tenant_id.eq(db_id(t)))
                .filter(memberships::user_id.eq(db_id(user)))
                .first::<MembershipRow>(c)
                .await
                .optional()?;
            row.map(Membership::try_from).transpose()
        })
    }

    async fn of_user(&self, user: UserId) -> Result<Vec<Membership>, RepoError> {
        on_db!(&self.pool, |c| {
            let rows = memberships::table
                .filter(memberships::user_id.eq(db_id(user)))
                .order((memberships::created_at.asc(), memberships::tenant_id.asc()))
                .load::<MembershipRow>(c)
                .await?;
            convert(rows)
        })
    }

    /// Newest user first (user ids are time-ordered); the cursor is a user id.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Member>, RepoError> {
        let members: Vec<Member> = on_db!(&self.pool, |c| {
            let mut q = memberships::table
                .inner_join(users::table.on(users::id.eq(memberships::user_id)))
                .filter(memberships::tenant_id.eq(db_id(t)))
                .select((
                    memberships::user_id,
                    users::email,
                    users::name,
                    memberships::role,
                    memberships::created_at,
                ))
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(memberships::user_id.lt(DbId(after)));
            }
            let rows = q
                .order(memberships::user_id.desc())
                .limit(page.fetch_limit())
                .load::<MemberRow>(c)
                .await?;
            convert(rows)
        })?;
        Ok(page.into_page(members, |m| m.user_id.into_uuid()))
    }

    async fn set_role(&self, t: TenantId, user: UserId, role: Role) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::update(
                memberships::table
                    .filter(memberships::tenant_id.eq(db_id(t)))
                    .filter(memberships::user_id.eq(db_id(user))),
            )
            .set(memberships::role.eq(role.as_str()))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }

    async fn remove(&self, t: TenantId, user: UserId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::delete(
                memberships::table
                    .filter(memberships::tenant_id.eq(db_id(t)))
                    .filter(memberships::user_id.eq(db_id(user))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }

    async fn count_owners(&self, t: TenantId) -> Result<u64, RepoError> {
        on_db!(&self.pool, |c| {
            let n: i64 = memberships::table
                .filter(memberships::tenant_id.eq(db_id(t)))
                .filter(memberships::role.eq(Role::Owner.as_str()))
                .count()
                .get_result(c)
                .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}

#[async_trait]
impl RefreshTokenRepository for Db {
    async fn insert(&self, token: &RefreshToken) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::id.eq(db_id(token.id)),
                    refresh_tokens::family_id.eq(db_id(token.family_id)),
                    refresh_tokens::tenant_id.eq(db_id(token.tenant_id)),
                    refresh_tokens::user_id.eq(db_id(token.user_id)),
                    refresh_tokens::token_hash.eq(&token.token_hash),
                    refresh_tokens::created_at.eq(token.created_at),
                    refresh_tokens::expires_at.eq(token.expires_at),
                    refresh_tokens::used_at.eq(token.used_at),
                    refresh_tokens::revoked_at.eq(token.revoked_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("user_id"))?;
            Ok(())
        })
    }

    async fn find_by_hash(&self, token_hash: &str) -> Result<Option<RefreshToken>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(token_hash))
                .first::<RefreshTokenRow>(c)
                .await
                .optional()?;
            Ok(row.map(RefreshToken::from))
        })
    }

    /// One conditional UPDATE: of two concurrent spenders exactly one wins.
    async fn spend(&self, id: RefreshTokenId, at: OffsetDateTime) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::id.eq(db_id(id)))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(at))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }

    async fn revoke_family(
        &self,
        family: TokenFamilyId,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(db_id(family)))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(at))
            .execute(c)
            .await?;
            Ok(())
        })
    }
}

#[async_trait]
impl ApiKeyRepository for Db {
    async fn insert(&self, key: &ApiKey) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::id.eq(db_id(key.id)),
                    api_keys::tenant_id.eq(db_id(key.tenant_id)),
                    api_keys::name.eq(&key.name),
                    api_keys::role.eq(key.role.as_str()),
                    api_keys::prefix.eq(&key.prefix),
                    api_keys::key_hash.eq(&key.key_hash),
                    api_keys::created_by.eq(key.created_by.map(db_id)),
                    api_keys::created_at.eq(key.created_at),
                    api_keys::last_used_at.eq(key.last_used_at),
                    api_keys::revoked_at.eq(key.revoked_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("created_by"))?;
            Ok(())
        })
    }

    /// Newest first, revoked keys included (they are shown as revoked).
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<ApiKey>, RepoError> {
        let keys: Vec<ApiKey> = on_db!(&self.pool, |c| {
            let mut q = api_keys::table
                .filter(api_keys::tenant_id.eq(db_id(t)))
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(api_keys::id.lt(DbId(after)));
            }
            let rows = q
                .order(api_keys::id.desc())
                .limit(page.fetch_limit())
                .load::<ApiKeyRow>(c)
                .await?;
            convert(rows)
        })?;
        Ok(page.into_page(keys, |k| k.id.into_uuid()))
    }

    async fn find_active_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = api_keys::table
                .filter(api_keys::key_hash.eq(key_hash))
                .filter(api_keys::revoked_at.is_null())
                .first::<ApiKeyRow>(c)
                .await
                .optional()?;
            row.map(ApiKey::try_from).transpose()
        })
    }

    async fn revoke(
        &self,
        t: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::update(
                api_keys::table
                    .filter(api_keys::tenant_id.eq(db_id(t)))
                    .filter(api_keys::id.eq(db_id(id)))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(at))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }

    async fn touch(&self, id: ApiKeyId, at: OffsetDateTime) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::update(api_keys::table.filter(api_keys::id.eq(db_id(id))))
                .set(api_keys::last_used_at.eq(at))
                .execute(c)
                .await?;
            Ok(())
        })
    }
}
