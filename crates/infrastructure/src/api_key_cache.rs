//! A per-process cache in front of API key look-ups: an integration calling
//! thousands of times a second must not cost a database query per request.
//!
//! Only found (active) keys are cached, for [`TTL`]. Revoking through this
//! process drops the entry at once; another instance may honour a revoked key
//! until its own entry expires (at most [`TTL`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::identity::{ApiKey, ApiKeyRepository};
use domain::page::{Page, PageRequest};
use domain::{ApiKeyId, RepoError, TenantId};
use moka::future::Cache;
use time::OffsetDateTime;

/// How long a found key is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(30);

pub struct CachedApiKeys {
    inner: Arc<dyn ApiKeyRepository>,
    by_hash: Cache<String, ApiKey>,
}

impl CachedApiKeys {
    #[must_use]
    pub fn new(inner: Arc<dyn ApiKeyRepository>) -> Self {
        let by_hash = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(TTL)
            .support_invalidation_closures()
            .build();
        Self { inner, by_hash }
    }
}

#[async_trait]
impl ApiKeyRepository for CachedApiKeys {
    async fn insert(&self, key: &ApiKey) -> Result<(), RepoError> {
        self.inner.insert(key).await
    }

    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<ApiKey>, RepoError> {
        self.inner.list(t, page).await
    }

    async fn find_active_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, RepoError> {
        if let Some(k) = self.by_hash.get(key_hash).await {
            return Ok(Some(k));
        }
        let found = self.inner.find_active_by_hash(key_hash).await?;
        if let Some(k) = &found {
            self.by_hash.insert(key_hash.to_owned(), k.clone()).await;
        }
        Ok(found)
    }

    async fn revoke(
        &self,
        t: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        let revoked = self.inner.revoke(t, id, at).await?;
        if let Err(e) = self.by_hash.invalidate_entries_if(move |_, k| k.id == id) {
            tracing::warn!(error = %e, "could not drop a revoked key from the cache");
        }
        self.by_hash.run_pending_tasks().await;
        Ok(revoked)
    }

    async fn touch(&self, id: ApiKeyId, at: OffsetDateTime) -> Result<(), RepoError> {
        self.inner.touch(id, at).await?;
        // Keep the cached copy's last use current so the next requests do not touch again.
        let stale: Vec<(Arc<String>, ApiKey)> =
            self.by_hash.iter().filter(|(_, k)| k.id == id).collect();
        for (hash, mut k) in stale {
            k.last_used_at = Some(at);
            self.by_hash.insert((*hash).clone(), k).await;
        }
        Ok(())
    }
}
