use std::sync::Arc;

use domain::ads::{
    AdAccount, AdAccountPatch, AdAccountRepository, AdAccountStatus, AdPlatform, Currency,
    TimeZoneName,
};
use domain::error::ValidationError;
use domain::identity::{Actor, Name, Permission};
use domain::ingestion::{AdAccountConnections, SecretBox};
use domain::page::{Page, PageRequest};
use domain::platform::{Cache, Clock};
use domain::{AdAccountId, TenantId};
use serde_json::json;

use super::cache_groups;
use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// Notes in an audit entry that a token was set (never the token itself).
fn with_token_note(mut v: serde_json::Value, token_set: bool) -> serde_json::Value {
    if token_set && let Some(o) = v.as_object_mut() {
        o.insert("access_token".to_owned(), json!("(replaced)"));
    }
    v
}

fn audit_json(a: &AdAccount) -> serde_json::Value {
    json!({"name": a.name, "external_id": a.external_id, "currency": a.currency.as_str(), "timezone": a.timezone, "status": a.status.as_str()})
}

/// Keeps ad accounts' platform tokens: sealed before they are stored, never
/// returned by the API, never logged.
#[derive(Clone)]
pub struct TokenVault {
    connections: Arc<dyn AdAccountConnections>,
    secrets: Arc<dyn SecretBox>,
}

/// Longest token accepted (Meta's long-lived tokens are ~200 characters).
const MAX_TOKEN_LEN: usize = 4096;

impl TokenVault {
    #[must_use]
    pub fn new(connections: Arc<dyn AdAccountConnections>, secrets: Arc<dyn SecretBox>) -> Self {
        Self {
            connections,
            secrets,
        }
    }

    /// The token as stored, or the field error for a bad one.
    ///
    /// # Errors
    /// Empty, too long or with whitespace inside.
    fn check(token: &str) -> Result<&str, ValidationError> {
        let t = token.trim();
        if t.is_empty() || t.len() > MAX_TOKEN_LEN || t.chars().any(char::is_whitespace) {
            return Err(ValidationError::new(
                "access_token",
                "must be the platform access token (no spaces, at most 4096 characters)",
            ));
        }
        Ok(t)
    }

    async fn store(&self, t: TenantId, id: AdAccountId, token: &str) -> Result<(), AppError> {
        let sealed = self
            .secrets
            .seal(token)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        self.connections
            .set_sealed_token(t, id, Some(sealed))
            .await?;
        Ok(())
    }
}

pub struct NewAdAccountInput {
    pub name: String,
    pub platform: String,
    pub external_id: String,
    pub currency: String,
    pub timezone: String,
    /// Write-only: sealed and stored, never answered.
    pub access_token: Option<String>,
}

pub struct CreateAdAccount {
    repo: Arc<dyn AdAccountRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
    tokens: TokenVault,
}

impl CreateAdAccount {
    #[must_use]
    pub fn new(
        repo: Arc<dyn AdAccountRepository>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
        tokens: TokenVault,
    ) -> Self {
        Self {
            repo,
            clock,
            audit,
            tokens,
        }
    }

    /// # Errors
    /// Forbidden below admin; validation; `AD_ACCOUNT_EXISTS` for a duplicate platform id.
    pub async fn execute(
        &self,
        actor: &Actor,
        input: NewAdAccountInput,
    ) -> Result<AdAccount, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let name = Name::parse("name", &input.name)
            .map_err(|x| e.merge(x))
            .ok();
        let platform = AdPlatform::parse(&input.platform)
            .map_err(|x| e.merge(x))
            .ok();
        let external_id = domain::ExternalId::parse(&input.external_id)
            .map_err(|x| e.merge(x))
            .ok();
        let currency = Currency::parse(&input.currency)
            .map_err(|x| e.merge(x))
            .ok();
        let timezone = TimeZoneName::parse(&input.timezone)
            .map_err(|x| e.merge(x))
            .ok();
        let token = input
            .access_token
            .as_deref()
            .map(|t| TokenVault::check(t).map_err(|x| e.merge(x)).ok())
            .unwrap_or_default();
        let (Some(name), Some(platform), Some(external_id), Some(currency), Some(timezone)) =
            (name, platform, external_id, currency, timezone)
        else {
            return Err(e.into());
        };
        let now = self.clock.now();
        let account = AdAccount {
            id: AdAccountId::generate(),
            tenant_id: actor.tenant_id,
            platform,
            external_id: external_id.as_str().to_owned(),
            name: name.into_string(),
            currency,
            timezone: timezone.as_str().to_owned(),
            status: AdAccountStatus::Active,
            created_at: now,
            updated_at: now,
        };
        self.repo.insert(&account).await.map_err(|err| match err {
            domain::RepoError::Conflict(_) => AppError::conflict(
                "AD_ACCOUNT_EXISTS",
                "this platform account is already connected",
            ),
            other => other.into(),
        })?;
        if let Some(token) = token {
            self.tokens
                .store(actor.tenant_id, account.id, token)
                .await?;
        }
        self.audit
            .record(
                actor,
                "ad_account.create",
                "ad_account",
                &account.id.to_string(),
                None,
                Some(audit_json(&account)),
            )
            .await;
        Ok(account)
    }
}

pub struct GetAdAccount {
    repo: Arc<dyn AdAccountRepository>,
}

impl GetAdAccount {
    #[must_use]
    pub fn new(repo: Arc<dyn AdAccountRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: AdAccountId) -> Result<AdAccount, AppError> {
        require(actor, Permission::Read)?;
        self.repo
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))
    }
}

pub struct ListAdAccounts {
    repo: Arc<dyn AdAccountRepository>,
}

impl ListAdAccounts {
    #[must_use]
    pub fn new(repo: Arc<dyn AdAccountRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// Validation of `status`; storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AdAccount>, AppError> {
        require(actor, Permission::Read)?;
        let status = status.map(AdAccountStatus::parse).transpose()?;
        Ok(self.repo.list(actor.tenant_id, status, page).await?)
    }
}

#[derive(Default)]
pub struct AdAccountPatchInput {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub status: Option<String>,
    /// Write-only; a new token also reactivates an account marked `NEEDS_REAUTH`.
    pub access_token: Option<String>,
}

pub struct UpdateAdAccount {
    repo: Arc<dyn AdAccountRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
    tokens: TokenVault,
}

impl UpdateAdAccount {
    #[must_use]
    pub fn new(
        repo: Arc<dyn AdAccountRepository>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
        tokens: TokenVault,
    ) -> Self {
        Self {
            repo,
            clock,
            audit,
            tokens,
        }
    }

    /// # Errors
    /// Forbidden below admin; validation; 404 for a missing or foreign id.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: AdAccountId,
        input: AdAccountPatchInput,
    ) -> Result<AdAccount, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let patch = AdAccountPatch {
            name: input.name.and_then(|s| {
                Name::parse("name", &s)
                    .map(Name::into_string)
                    .map_err(|x| e.merge(x))
                    .ok()
            }),
            currency: input
                .currency
                .and_then(|s| Currency::parse(&s).map_err(|x| e.merge(x)).ok()),
            timezone: input.timezone.and_then(|s| {
                TimeZoneName::parse(&s)
                    .map(|z| z.as_str().to_owned())
                    .map_err(|x| e.merge(x))
                    .ok()
            }),
            status: input
                .status
                .and_then(|s| AdAccountStatus::parse(&s).map_err(|x| e.merge(x)).ok()),
        };
        let token = input
            .access_token
            .as_deref()
            .map(|t| TokenVault::check(t).map_err(|x| e.merge(x)).ok())
            .unwrap_or_default();
        e.into_result()?;
        let mut patch = patch;
        let before = self
            .repo
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        if let Some(token) = token {
            self.tokens.store(actor.tenant_id, id, token).await?;
            if before.status == AdAccountStatus::NeedsReauth && patch.status.is_none() {
                patch.status = Some(AdAccountStatus::Active);
            }
        }
        let after = self
            .repo
            .update(actor.tenant_id, id, &patch, self.clock.now())
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        self.audit
            .record(
                actor,
                "ad_account.update",
                "ad_account",
                &id.to_string(),
                Some(audit_json(&before)),
                Some(with_token_note(audit_json(&after), token.is_some())),
            )
            .await;
        Ok(after)
    }
}

/// Deletes an ad account and everything under it.
pub struct DeleteAdAccount {
    repo: Arc<dyn AdAccountRepository>,
    cache: Arc<dyn Cache>,
    audit: Auditor,
}

impl DeleteAdAccount {
    #[must_use]
    pub fn new(repo: Arc<dyn AdAccountRepository>, cache: Arc<dyn Cache>, audit: Auditor) -> Self {
        Self { repo, cache, audit }
    }

    /// # Errors
    /// Forbidden below admin; 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: AdAccountId) -> Result<(), AppError> {
        require(actor, Permission::Write)?;
        let before = self
            .repo
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        if !self.repo.delete(actor.tenant_id, id).await? {
            return Err(AppError::NotFound(Resource::AdAccount));
        }
        self.cache
            .invalidate(&cache_groups::campaigns(actor.tenant_id))
            .await;
        self.cache
            .invalidate(&cache_groups::top_ads(actor.tenant_id))
            .await;
        self.audit
            .record(
                actor,
                "ad_account.delete",
                "ad_account",
                &id.to_string(),
                Some(audit_json(&before)),
                None,
            )
            .await;
        Ok(())
    }
}
