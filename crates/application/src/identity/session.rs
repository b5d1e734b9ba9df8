use std::sync::Arc;

use domain::identity::{AccessTokens, RefreshToken, RefreshTokenRepository, Role, Secrets};
use domain::platform::Clock;
use domain::{RefreshTokenId, TenantId, TokenFamilyId, UserId};

use crate::AppError;

/// A signed-in session: a short-lived access token and a rotating refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
}

/// Issues access + refresh token pairs; shared by register, login and refresh.
#[derive(Clone)]
pub struct SessionIssuer {
    tokens: Arc<dyn AccessTokens>,
    refresh: Arc<dyn RefreshTokenRepository>,
    secrets: Arc<dyn Secrets>,
    clock: Arc<dyn Clock>,
    refresh_ttl: time::Duration,
}

impl SessionIssuer {
    #[must_use]
    pub fn new(
        tokens: Arc<dyn AccessTokens>,
        refresh: Arc<dyn RefreshTokenRepository>,
        secrets: Arc<dyn Secrets>,
        clock: Arc<dyn Clock>,
        refresh_ttl: time::Duration,
    ) -> Self {
        Self {
            tokens,
            refresh,
            secrets,
            clock,
            refresh_ttl,
        }
    }

    /// Issues a pair; `family` continues a rotation chain, `None` starts one.
    ///
    /// # Errors
    /// Signing or storage failures.
    pub async fn issue(
        &self,
        user: UserId,
        tenant: TenantId,
        role: Role,
        family: Option<TokenFamilyId>,
    ) -> Result<Session, AppError> {
        let now = self.clock.now();
        let (access_token, expires_in) = self.tokens.issue(user, tenant, role, now)?;
        let refresh_token = self.secrets.generate(32);
        let record = RefreshToken {
            id: RefreshTokenId::generate(),
            family_id: family.unwrap_or_else(TokenFamilyId::generate),
            tenant_id: tenant,
            user_id: user,
            token_hash: self.secrets.digest(&refresh_token),
            created_at: now,
            expires_at: now + self.refresh_ttl,
            used_at: None,
            revoked_at: None,
        };
        self.refresh.insert(&record).await?;
        Ok(Session {
            access_token,
            refresh_token,
            expires_in,
        })
    }
}
