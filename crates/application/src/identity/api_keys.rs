use std::sync::Arc;

use domain::ApiKeyId;
use domain::error::ValidationError;
use domain::identity::{Actor, ApiKey, ApiKeyRepository, Name, Permission, Role, Secrets};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use serde_json::json;

use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// Keys start with this, so secret scanners and people recognise them.
pub const KEY_PREFIX: &str = "ask_";
/// How much of a key is kept visible (`ask_` + 8 characters).
const VISIBLE: usize = 12;

pub struct NewApiKeyInput {
    pub name: String,
    pub role: String,
}

/// A key as created: `secret` is the full key, shown this once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

pub struct CreateApiKey {
    keys: Arc<dyn ApiKeyRepository>,
    secrets: Arc<dyn Secrets>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl CreateApiKey {
    #[must_use]
    pub fn new(
        keys: Arc<dyn ApiKeyRepository>,
        secrets: Arc<dyn Secrets>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            keys,
            secrets,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden unless owner; validation (an `owner` key is refused: keys are for integrations).
    pub async fn execute(
        &self,
        actor: &Actor,
        input: NewApiKeyInput,
    ) -> Result<CreatedApiKey, AppError> {
        require(actor, Permission::Manage)?;
        let mut errors = ValidationError::default();
        let name = Name::parse("name", &input.name)
            .map_err(|e| errors.merge(e))
            .ok();
        let role = match Role::parse(&input.role) {
            Ok(Role::Owner) => {
                errors.add("role", "API keys can be admin, analyst or viewer");
                None
            }
            Ok(r) => Some(r),
            Err(e) => {
                errors.merge(e);
                None
            }
        };
        let (Some(name), Some(role)) = (name, role) else {
            return Err(errors.into());
        };
        let secret = format!("{KEY_PREFIX}{}", self.secrets.generate(32));
        let key = ApiKey {
            id: ApiKeyId::generate(),
            tenant_id: actor.tenant_id,
            name: name.into_string(),
            role,
            prefix: secret.chars().take(VISIBLE).collect(),
            key_hash: self.secrets.digest(&secret),
            created_by: actor.user_id(),
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.keys.insert(&key).await?;
        self.audit
            .record(
                actor,
                "api_key.create",
                "api_key",
                &key.id.to_string(),
                None,
                Some(json!({"name": key.name, "role": role.as_str(), "prefix": key.prefix})),
            )
            .await;
        Ok(CreatedApiKey { key, secret })
    }
}

pub struct ListApiKeys {
    keys: Arc<dyn ApiKeyRepository>,
}

impl ListApiKeys {
    #[must_use]
    pub fn new(keys: Arc<dyn ApiKeyRepository>) -> Self {
        Self { keys }
    }

    /// # Errors
    /// Forbidden unless owner; storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, AppError> {
        require(actor, Permission::Manage)?;
        Ok(self.keys.list(actor.tenant_id, page).await?)
    }
}

pub struct RevokeApiKey {
    keys: Arc<dyn ApiKeyRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl RevokeApiKey {
    #[must_use]
    pub fn new(keys: Arc<dyn ApiKeyRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self { keys, clock, audit }
    }

    /// # Errors
    /// Forbidden unless owner; 404 for an unknown, foreign or already revoked key.
    pub async fn execute(&self, actor: &Actor, id: ApiKeyId) -> Result<(), AppError> {
        require(actor, Permission::Manage)?;
        if !self
            .keys
            .revoke(actor.tenant_id, id, self.clock.now())
            .await?
        {
            return Err(AppError::NotFound(Resource::ApiKey));
        }
        self.audit
            .record(
                actor,
                "api_key.revoke",
                "api_key",
                &id.to_string(),
                None,
                None,
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::identity::{MockApiKeyRepository, MockSecrets};

    use crate::testing::new_year_clock as clock;

    fn auditor() -> Auditor {
        crate::testing::auditor(None)
    }

    fn owner() -> Actor {
        crate::testing::actor(Role::Owner)
    }

    #[tokio::test]
    async fn stores_only_the_digest_and_shows_the_key_once() {
        let mut repo = MockApiKeyRepository::new();
        repo.expect_insert()
            .withf(|k| k.key_hash == "digest" && k.prefix == "ask_abcdefgh")
            .times(1)
            .returning(|_| Ok(()));
        let mut secrets = MockSecrets::new();
        secrets
            .expect_generate()
            .returning(|_| "abcdefghijklmnop".into());
        secrets.expect_digest().returning(|_| "digest".into());
        let created = CreateApiKey::new(Arc::new(repo), Arc::new(secrets), clock(), auditor())
            .execute(
                &owner(),
                NewApiKeyInput {
                    name: "ci".into(),
                    role: "viewer".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(created.secret, "ask_abcdefghijklmnop");
        assert_eq!(created.key.role, Role::Viewer);
    }

    #[tokio::test]
    async fn refuses_owner_keys() {
        let mut repo = MockApiKeyRepository::new();
        repo.expect_insert().never();
        let err = CreateApiKey::new(
            Arc::new(repo),
            Arc::new(MockSecrets::new()),
            clock(),
            auditor(),
        )
        .execute(
            &owner(),
            NewApiKeyInput {
                name: "x".into(),
                role: "owner".into(),
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppError::Validation(v) if v.fields.contains_key("role")));
    }

    #[tokio::test]
    async fn revoking_a_foreign_key_is_not_found() {
        let mut repo = MockApiKeyRepository::new();
        repo.expect_revoke().returning(|_, _, _| Ok(false));
        let err = RevokeApiKey::new(Arc::new(repo), clock(), auditor())
            .execute(&owner(), ApiKeyId::generate())
            .await
            .unwrap_err();
        assert_eq!(err, AppError::NotFound(Resource::ApiKey));
    }
}
