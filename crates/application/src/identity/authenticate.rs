use std::sync::Arc;

use domain::identity::{AccessTokens, Actor, ApiKeyRepository, Principal, Secrets};
use domain::platform::Clock;

use crate::AppError;

/// Turns a bearer access token (JWT) into an [`Actor`]. No database access: a
/// role change or removal takes effect at the next refresh (≤ the token's TTL).
pub struct AuthenticateAccessToken {
    tokens: Arc<dyn AccessTokens>,
    clock: Arc<dyn Clock>,
}

impl AuthenticateAccessToken {
    #[must_use]
    pub fn new(tokens: Arc<dyn AccessTokens>, clock: Arc<dyn Clock>) -> Self {
        Self { tokens, clock }
    }

    /// # Errors
    /// `Unauthorized` for a bad, expired or tampered token.
    pub fn execute(&self, token: &str) -> Result<Actor, AppError> {
        let c = self.tokens.verify(token, self.clock.now())?;
        Ok(Actor {
            tenant_id: c.tenant_id,
            principal: Principal::User(c.user_id),
            role: c.role,
        })
    }
}

/// How stale `last_used_at` may get before a request writes it again.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(5);

/// Turns an `X-API-Key` into an [`Actor`] of the key's organization and role.
pub struct AuthenticateApiKey {
    keys: Arc<dyn ApiKeyRepository>,
    secrets: Arc<dyn Secrets>,
    clock: Arc<dyn Clock>,
}

impl AuthenticateApiKey {
    #[must_use]
    pub fn new(
        keys: Arc<dyn ApiKeyRepository>,
        secrets: Arc<dyn Secrets>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            keys,
            secrets,
            clock,
        }
    }

    /// # Errors
    /// `Unauthorized` for an unknown or revoked key; storage failures.
    pub async fn execute(&self, key: &str) -> Result<Actor, AppError> {
        if key.is_empty() || key.len() > 200 {
            return Err(AppError::Unauthorized("invalid API key"));
        }
        let hash = self.secrets.digest(key);
        let k = self
            .keys
            .find_active_by_hash(&hash)
            .await?
            .ok_or(AppError::Unauthorized("invalid API key"))?;
        let now = self.clock.now();
        if k.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY)
            && let Err(e) = self.keys.touch(k.id, now).await
        {
            tracing::warn!(error = %e, key_id = %k.id, "could not record API key use");
        }
        Ok(Actor {
            tenant_id: k.tenant_id,
            principal: Principal::ApiKey(k.id),
            role: k.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::identity::{ApiKey, MockApiKeyRepository, MockSecrets, Role};
    use domain::platform::MockClock;
    use domain::{ApiKeyId, TenantId};
    use time::macros::datetime;

    fn key(last_used: Option<time::OffsetDateTime>) -> ApiKey {
        ApiKey {
            id: ApiKeyId::generate(),
            tenant_id: TenantId::generate(),
            name: "ci".into(),
            role: Role::Analyst,
            prefix: "ask_abc".into(),
            key_hash: "h".into(),
            created_by: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
            last_used_at: last_used,
            revoked_at: None,
        }
    }

    fn deps(k: Option<ApiKey>, touches: usize) -> AuthenticateApiKey {
        let mut repo = MockApiKeyRepository::new();
        repo.expect_find_active_by_hash()
            .returning(move |_| Ok(k.clone()));
        repo.expect_touch().times(touches).returning(|_, _| Ok(()));
        let mut secrets = MockSecrets::new();
        secrets.expect_digest().returning(|s| format!("sha:{s}"));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| datetime!(2026-01-01 12:00 UTC));
        AuthenticateApiKey::new(Arc::new(repo), Arc::new(secrets), Arc::new(clock))
    }

    #[tokio::test]
    async fn api_key_acts_with_its_role_in_its_tenant() {
        let k = key(Some(datetime!(2026-01-01 11:58 UTC)));
        let actor = deps(Some(k.clone()), 0)
            .execute("ask_abc.secret")
            .await
            .unwrap();
        assert_eq!(actor.tenant_id, k.tenant_id);
        assert_eq!(actor.role, Role::Analyst);
        assert_eq!(actor.principal, Principal::ApiKey(k.id));
    }

    #[tokio::test]
    async fn records_use_only_when_stale() {
        deps(Some(key(None)), 1).execute("k").await.unwrap();
        deps(Some(key(Some(datetime!(2026-01-01 11:00 UTC)))), 1)
            .execute("k")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn rejects_unknown_or_revoked_key() {
        let err = deps(None, 0).execute("nope").await.unwrap_err();
        assert_eq!(err, AppError::Unauthorized("invalid API key"));
    }
}
