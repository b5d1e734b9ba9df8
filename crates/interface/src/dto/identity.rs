//! Identity DTOs: sign-up, sessions, who am I, the organization, members and
//! API keys. Secrets (password hashes, key digests) have no field here, so
//! they cannot leak.

use application::identity::{CreatedApiKey, Me, OrganizationPatchInput, Registered, Session};
use domain::identity::{ApiKey, Member, Membership, Organization, Role, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{timestamp, timestamp_opt};

/// A role inside one organization; each can do what the ones after it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    Owner,
    Admin,
    Analyst,
    Viewer,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Analyst => Self::Analyst,
            Role::Viewer => Self::Viewer,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[serde(default)]
    #[schema(required = true, example = "Acme Marketing")]
    pub organization_name: String,
    /// The organization's IANA time zone; `UTC` when absent.
    #[schema(example = "America/Sao_Paulo")]
    pub timezone: Option<String>,
    #[serde(default)]
    #[schema(required = true, example = "Ana Souza")]
    pub name: String,
    #[serde(default)]
    #[schema(required = true, example = "ana@example.com")]
    pub email: String,
    /// At least 10 characters.
    #[serde(default)]
    #[schema(required = true, min_length = 10, example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[serde(default)]
    #[schema(required = true, example = "ana@example.com")]
    pub email: String,
    #[serde(default)]
    #[schema(required = true)]
    pub password: String,
    /// Which of the user's organizations to sign in to; the oldest membership when absent.
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshTokenRequest {
    #[serde(default)]
    #[schema(required = true)]
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.into_uuid(),
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationDto {
    pub id: Uuid,
    pub name: String,
    /// IANA zone of the organization's calendar (organization-wide reports
    /// and schedules); `UTC` unless chosen.
    #[schema(example = "America/Sao_Paulo")]
    pub timezone: String,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&Organization> for OrganizationDto {
    fn from(o: &Organization) -> Self {
        Self {
            id: o.id.into_uuid(),
            name: o.name.clone(),
            timezone: o.timezone.clone(),
            created_at: o.created_at,
        }
    }
}

/// Changes the organization; only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateOrganizationRequest {
    #[schema(example = "Acme Marketing")]
    pub name: Option<String>,
    /// An IANA time zone.
    #[schema(example = "America/Sao_Paulo")]
    pub timezone: Option<String>,
}

impl From<UpdateOrganizationRequest> for OrganizationPatchInput {
    fn from(r: UpdateOrganizationRequest) -> Self {
        Self {
            name: r.name,
            timezone: r.timezone,
        }
    }
}

/// A signed-in session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single use: `POST /auth/refresh` spends it and returns a new pair.
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
}

impl From<Session> for TokenResponse {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_in: s.expires_in,
            token_type: "Bearer",
        }
    }
}

/// A new organization, its owner, and their first session.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserDto,
    pub organization: OrganizationDto,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
}

impl From<Registered> for RegisterResponse {
    fn from(r: Registered) -> Self {
        Self {
            user: UserDto::from(&r.user),
            organization: OrganizationDto::from(&r.organization),
            access_token: r.session.access_token,
            refresh_token: r.session.refresh_token,
            expires_in: r.session.expires_in,
            token_type: "Bearer",
        }
    }
}

/// The caller: a user (or `null` for an API key), their organization and role.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// `null` when the caller is an API key.
    pub user: Option<UserDto>,
    pub organization: OrganizationDto,
    pub role: RoleDto,
}

impl From<Me> for MeResponse {
    fn from(m: Me) -> Self {
        Self {
            user: m.user.as_ref().map(UserDto::from),
            organization: OrganizationDto::from(&m.organization),
            role: m.role.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: RoleDto,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
}

impl From<Member> for MemberDto {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id.into_uuid(),
            email: m.email,
            name: m.name,
            role: m.role.into(),
            joined_at: m.joined_at,
        }
    }
}

/// A membership after a role change.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipDto {
    pub user_id: Uuid,
    pub role: RoleDto,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
}

impl From<Membership> for MembershipDto {
    fn from(m: Membership) -> Self {
        Self {
            user_id: m.user_id.into_uuid(),
            role: m.role.into(),
            joined_at: m.created_at,
        }
    }
}

/// Adds a person by e-mail; `name` is needed when they have no account yet.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMemberRequest {
    #[serde(default)]
    #[schema(required = true, example = "bia@example.com")]
    pub email: String,
    pub name: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = RoleDto)]
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeRoleRequest {
    #[serde(default)]
    #[schema(required = true, value_type = RoleDto)]
    pub role: String,
}

/// An API key as listed: never its secret or digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    pub id: Uuid,
    pub name: String,
    pub role: RoleDto,
    /// The visible start of the key, to tell keys apart.
    #[schema(example = "ask_3fa85f64")]
    pub prefix: String,
    pub created_by: Option<Uuid>,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(serialize_with = "timestamp_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<ApiKey> for ApiKeyDto {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.into_uuid(),
            name: k.name,
            role: k.role.into(),
            prefix: k.prefix,
            created_by: k.created_by.map(domain::UserId::into_uuid),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    #[serde(default)]
    #[schema(required = true, example = "CI exporter")]
    pub name: String,
    /// `admin`, `analyst` or `viewer` (keys cannot be owners).
    #[serde(default)]
    #[schema(required = true, value_type = RoleDto)]
    pub role: String,
}

/// A new key: `key` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyDto {
    pub id: Uuid,
    pub name: String,
    pub role: RoleDto,
    pub prefix: String,
    /// The full key, for `X-API-Key`. Store it now: it cannot be shown again.
    pub key: String,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<CreatedApiKey> for CreatedApiKeyDto {
    fn from(c: CreatedApiKey) -> Self {
        Self {
            id: c.key.id.into_uuid(),
            name: c.key.name,
            role: c.key.role.into(),
            prefix: c.key.prefix,
            key: c.secret,
            created_at: c.key.created_at,
        }
    }
}
