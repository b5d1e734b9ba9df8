//! Identity and tenancy: organizations (tenants), users, memberships with roles,
//! API keys and refresh tokens. Owns who may do what; never how secrets are
//! hashed or tokens signed (those are ports implemented in infrastructure).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::{RepoError, ValidationError};
use crate::ids::{ApiKeyId, RefreshTokenId, TenantId, TokenFamilyId, UserId};
use crate::page::{Page, PageRequest};

// ------------------------------------------------------------------ values

/// A role inside one organization. Ordered: each role can do what the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Analyst,
    Admin,
    Owner,
}

/// What an action needs. Checked in use cases, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read any tenant data.
    Read,
    /// Comment, flag, annotate (analysts and up).
    Comment,
    /// Create, change and delete ads data and settings (admins and up).
    Write,
    /// Manage members and API keys (owners only).
    Manage,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Analyst, Role::Viewer];

    #[must_use]
    pub fn allows(self, p: Permission) -> bool {
        match p {
            Permission::Read => true,
            Permission::Comment => self >= Role::Analyst,
            Permission::Write => self >= Role::Admin,
            Permission::Manage => self == Role::Owner,
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    /// # Errors
    /// Not one of `owner`, `admin`, `analyst`, `viewer`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "viewer" => Ok(Role::Viewer),
            _ => Err(ValidationError::new(
                "role",
                "must be one of owner, admin, analyst, viewer",
            )),
        }
    }
}

/// A syntactically valid, lower-cased e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// Not of the shape `local@domain.tld`, or longer than 254 characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim().to_lowercase();
        let bad = || ValidationError::new("email", "must be a valid e-mail");
        if s.len() > 254 || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(s))
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: at least 10 characters, at most 256. Never logged.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 10;

    /// # Errors
    /// Shorter than 10 or longer than 256 characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let n = s.chars().count();
        if n < Self::MIN_LEN {
            return Err(ValidationError::new(
                "password",
                "must be at least 10 characters",
            ));
        }
        if n > 256 {
            return Err(ValidationError::new(
                "password",
                "must be at most 256 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A trimmed, non-empty display name of at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// # Errors
    /// Empty after trimming, or longer than 200 characters; `field` names the input.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if s.chars().count() > 200 {
            return Err(ValidationError::new(
                field,
                "must be at most 200 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

// ------------------------------------------------------------------ entities

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: TenantId,
    pub name: String,
    /// IANA time zone (checked by [`crate::ads::TimeZoneName`]): the calendar of
    /// organization-wide reports and schedules. `UTC` unless chosen.
    pub timezone: String,
    pub created_at: OffsetDateTime,
}

impl Organization {
    /// The zone an organization has until someone picks one.
    pub const DEFAULT_TIMEZONE: &'static str = "UTC";
}

/// A change to an organization: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
}

impl OrganizationPatch {
    /// Whether the patch changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.timezone.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    /// PHC string (argon2id). Never leaves the server.
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
    pub created_at: OffsetDateTime,
}

/// A member as listed: the user (without secrets) and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: OffsetDateTime,
}

/// An integration key. Only its SHA-256 digest is stored; `prefix` is the
/// visible start of the key so people can tell keys apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub key_hash: String,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A stored refresh token (hashed). Tokens rotate: each use spends one and
/// issues the next in the same family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: RefreshTokenId,
    pub family_id: TokenFamilyId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Who is acting: always inside one tenant, as a user or as an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub principal: Principal,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    User(UserId),
    ApiKey(ApiKeyId),
    /// An operator at the command line (`adscale import`), audited as `system`.
    System,
}

impl Principal {
    /// `"user:<id>"`, `"api_key:<id>"` or `"system"`, as written to the audit log.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Principal::User(u) => format!("user:{u}"),
            Principal::ApiKey(k) => format!("api_key:{k}"),
            Principal::System => "system".to_owned(),
        }
    }
}

impl Actor {
    #[must_use]
    pub fn can(&self, p: Permission) -> bool {
        self.role.allows(p)
    }

    /// `"user:<id>"` or `"api_key:<id>"`, as written to the audit log.
    #[must_use]
    pub fn label(&self) -> String {
        self.principal.label()
    }

    #[must_use]
    pub fn user_id(&self) -> Option<UserId> {
        match self.principal {
            Principal::User(u) => Some(u),
            Principal::ApiKey(_) | Principal::System => None,
        }
    }
}

/// The claims carried by an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub role: Role,
    pub expires_at: OffsetDateTime,
}

// ------------------------------------------------------------------ ports

/// Organizations and their first owner.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// Creates the organization, its owner user, the owner membership and the
    /// seed rule ([`crate::rules::RuleSpec::seed`]), all or nothing.
    ///
    /// # Errors
    /// `Conflict("email")` when the e-mail is taken.
    async fn create_with_owner(&self, org: &Organization, owner: &User) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, id: TenantId) -> Result<Option<Organization>, RepoError>;
    /// Applies `patch` to the organization `id` (the tenant itself, so the
    /// change cannot reach another one); the updated organization, or `None`
    /// when it does not exist. An empty patch changes nothing.
    ///
    /// # Errors
    /// Database failures.
    async fn update(
        &self,
        id: TenantId,
        patch: &OrganizationPatch,
    ) -> Result<Option<Organization>, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// # Errors
    /// `Conflict("email")` when the e-mail is taken.
    async fn insert(&self, user: &User) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, id: UserId) -> Result<Option<User>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MembershipRepository: Send + Sync {
    /// # Errors
    /// `Conflict("membership")` when the user already belongs to the tenant.
    async fn add(&self, m: &Membership) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, t: TenantId, user: UserId) -> Result<Option<Membership>, RepoError>;
    /// The user's memberships, oldest first (login picks the first unless told).
    ///
    /// # Errors
    /// Database failures.
    async fn of_user(&self, user: UserId) -> Result<Vec<Membership>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Member>, RepoError>;
    /// Returns whether a membership was changed.
    ///
    /// # Errors
    /// Database failures.
    async fn set_role(&self, t: TenantId, user: UserId, role: Role) -> Result<bool, RepoError>;
    /// Returns whether a membership was removed.
    ///
    /// # Errors
    /// Database failures.
    async fn remove(&self, t: TenantId, user: UserId) -> Result<bool, RepoError>;
    /// # Errors
    /// Database failures.
    async fn count_owners(&self, t: TenantId) -> Result<u64, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    /// # Errors
    /// Database failures.
    async fn insert(&self, token: &RefreshToken) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find_by_hash(&self, token_hash: &str) -> Result<Option<RefreshToken>, RepoError>;
    /// Marks the token used if (and only if) it was unused and unrevoked; `false`
    /// means someone spent it first, which is a reuse.
    ///
    /// # Errors
    /// Database failures.
    async fn spend(&self, id: RefreshTokenId, at: OffsetDateTime) -> Result<bool, RepoError>;
    /// # Errors
    /// Database failures.
    async fn revoke_family(
        &self,
        family: TokenFamilyId,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// # Errors
    /// Database failures.
    async fn insert(&self, key: &ApiKey) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<ApiKey>, RepoError>;
    /// The key with this digest, if it exists and is not revoked.
    ///
    /// # Errors
    /// Database failures.
    async fn find_active_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, RepoError>;
    /// Returns whether an active key was revoked.
    ///
    /// # Errors
    /// Database failures.
    async fn revoke(
        &self,
        t: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<bool, RepoError>;
    /// # Errors
    /// Database failures.
    async fn touch(&self, id: ApiKeyId, at: OffsetDateTime) -> Result<(), RepoError>;
}

/// Slow, salted password hashing (argon2id).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// # Errors
    /// The hasher failed (never for valid input).
    async fn hash(&self, password: &Password) -> Result<String, CryptoError>;
    /// `Ok(false)` for a wrong password.
    ///
    /// # Errors
    /// The stored hash is not a valid PHC string.
    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, CryptoError>;
}

/// Signs and checks short-lived access tokens (JWT).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AccessTokens: Send + Sync {
    /// Returns the token and its lifetime in seconds.
    ///
    /// # Errors
    /// Signing failed.
    fn issue(
        &self,
        user: UserId,
        tenant: TenantId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<(String, i64), CryptoError>;
    /// # Errors
    /// `CryptoError::InvalidToken` for a bad signature, an expired or malformed token.
    fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, CryptoError>;
}

/// Random secrets (refresh tokens, API keys) and their one-way digests.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Secrets: Send + Sync {
    /// A new random, URL-safe secret of `bytes` bytes of entropy.
    fn generate(&self, bytes: usize) -> String;
    /// Hex SHA-256 of a high-entropy secret (not for passwords).
    fn digest(&self, secret: &str) -> String;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("crypto failure: {0}")]
    Failure(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_form_a_ladder() {
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::Viewer.allows(Permission::Comment));
        assert!(Role::Analyst.allows(Permission::Comment));
        assert!(!Role::Analyst.allows(Permission::Write));
        assert!(Role::Admin.allows(Permission::Write));
        assert!(!Role::Admin.allows(Permission::Manage));
        assert!(Role::Owner.allows(Permission::Manage));
    }

    #[test]
    fn role_round_trips_through_text() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.io",
            "ana@localhost",
            "a b@x.io",
            "a@@x.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn default_organization_time_zone_is_a_valid_zone_name() {
        let z = crate::ads::TimeZoneName::parse(Organization::DEFAULT_TIMEZONE).unwrap();
        assert_eq!(z.as_str(), "UTC");
    }

    #[test]
    fn organization_patch_without_fields_is_empty() {
        assert!(OrganizationPatch::default().is_empty());
        let patch = OrganizationPatch {
            timezone: Some("Europe/Lisbon".to_owned()),
            ..OrganizationPatch::default()
        };
        assert!(!patch.is_empty());
    }

    #[test]
    fn rejects_short_password_and_hides_it_in_debug() {
        assert!(Password::parse("123456789").is_err());
        let p = Password::parse("correct horse").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
