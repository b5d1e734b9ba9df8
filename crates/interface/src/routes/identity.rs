//! Identity routes: sign-up, sessions, who am I, the organization, members
//! and API keys. Each handler authenticates (where needed), turns the body
//! into a use-case input, calls one use case and wraps the DTO; role checks
//! live in the use cases.

use actix_web::{HttpResponse, web};
use application::identity::{AddMemberInput, LoginInput, NewApiKeyInput, RegisterInput};
use domain::{ApiKeyId, TenantId, UserId};

use super::page_request;
use crate::auth::Auth;
use crate::dto::common::PageQuery;
use crate::dto::identity::{
    AddMemberRequest, ApiKeyDto, ChangeRoleRequest, CreateApiKeyRequest, CreatedApiKeyDto,
    LoginRequest, MeResponse, MemberDto, MembershipDto, OrganizationDto, RefreshTokenRequest,
    RegisterRequest, RegisterResponse, TokenResponse, UpdateOrganizationRequest,
};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    ApiKeyListEnvelope, CreatedApiKeyEnvelope, E400, E401, E403, E404, E409, E413, E422, E429,
    E500, E503, MeEnvelope, MemberEnvelope, MemberListEnvelope, MembershipEnvelope,
    OrganizationEnvelope, RegisterEnvelope, TokenEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// Create an organization with its first user (the owner), and sign in.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth", security(()),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = RegisterEnvelope,
         headers(("Location" = String, description = "`/api/v1/me`"))),
        E400, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn register(state: web::Data<AppState>, body: web::Json<RegisterRequest>) -> Reply {
    let b = body.into_inner();
    let r = state
        .identity
        .register
        .execute(RegisterInput {
            organization_name: b.organization_name,
            timezone: b.timezone,
            name: b.name,
            email: b.email,
            password: b.password,
        })
        .await?;
    env::created(state.version, "/api/v1/me", RegisterResponse::from(r))
}

/// Sign in with e-mail and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenEnvelope),
        E400, E401, E413, E429, E500, E503,
    )
)]
pub async fn login(state: web::Data<AppState>, body: web::Json<LoginRequest>) -> Reply {
    let b = body.into_inner();
    let s = state
        .identity
        .login
        .execute(LoginInput {
            email: b.email,
            password: b.password,
            organization_id: b.organization_id.map(TenantId::from_uuid),
        })
        .await?;
    env::ok(state.version, TokenResponse::from(s))
}

/// Exchange a refresh token for a new pair; the presented token is spent.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth", security(()),
    request_body = RefreshTokenRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenEnvelope),
        E400, E401, E413, E429, E500, E503,
    )
)]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshTokenRequest>) -> Reply {
    let s = state.identity.refresh.execute(&body.refresh_token).await?;
    env::ok(state.version, TokenResponse::from(s))
}

/// End a session: the refresh token's whole family is revoked. Idempotent.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth", security(()),
    request_body = RefreshTokenRequest,
    responses(
        (status = 204, description = "Signed out"),
        E400, E413, E429, E500, E503,
    )
)]
pub async fn logout(state: web::Data<AppState>, body: web::Json<RefreshTokenRequest>) -> Reply {
    state.identity.logout.execute(&body.refresh_token).await?;
    Ok(env::no_content())
}

/// The caller: user (`null` for an API key), organization and role.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    security(("bearer_auth" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller", body = MeEnvelope),
        E401, E429, E500, E503,
    )
)]
pub async fn me(Auth(actor): Auth, state: web::Data<AppState>) -> Reply {
    let me = state.identity.me.execute(&actor).await?;
    env::ok(state.version, MeResponse::from(me))
}

// ------------------------------------------------------------------ organization

/// The caller's organization: name, time zone and creation time.
#[utoipa::path(
    get, path = "/api/v1/organization", tag = "organization",
    security(("bearer_auth" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's organization", body = OrganizationEnvelope),
        E401, E429, E500, E503,
    )
)]
pub async fn get_organization(Auth(actor): Auth, state: web::Data<AppState>) -> Reply {
    let o = state.identity.get_organization.execute(&actor).await?;
    env::ok(state.version, OrganizationDto::from(&o))
}

/// Rename the organization or change its time zone (admins and up); only the
/// fields present change.
#[utoipa::path(
    patch, path = "/api/v1/organization", tag = "organization",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "The updated organization", body = OrganizationEnvelope),
        E400, E401, E403, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_organization(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<UpdateOrganizationRequest>,
) -> Reply {
    let o = state
        .identity
        .update_organization
        .execute(&actor, body.into_inner().into())
        .await?;
    env::ok(state.version, OrganizationDto::from(&o))
}

// ------------------------------------------------------------------ members

/// The organization's members, newest user account first.
#[utoipa::path(
    get, path = "/api/v1/members", tag = "members",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of members", body = MemberListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_members(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let members = state.identity.list_members.execute(&actor, page).await?;
    env::page(state.version, members, MemberDto::from)
}

/// Add a person (owners only). A new e-mail gets an account without a password.
#[utoipa::path(
    post, path = "/api/v1/members", tag = "members",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = MemberEnvelope,
         headers(("Location" = String, description = "`/api/v1/members/{user_id}`"))),
        E400, E401, E403, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn add_member(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<AddMemberRequest>,
) -> Reply {
    let b = body.into_inner();
    let m = state
        .identity
        .add_member
        .execute(
            &actor,
            AddMemberInput {
                email: b.email,
                name: b.name,
                role: b.role,
            },
        )
        .await?;
    let location = format!("/api/v1/members/{}", m.user_id);
    env::created(state.version, &location, MemberDto::from(m))
}

/// Change a member's role (owners only; the last owner stays an owner).
#[utoipa::path(
    patch, path = "/api/v1/members/{user_id}", tag = "members",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("user_id" = Uuid, Path, description = "The member's user id")),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "The membership with its new role", body = MembershipEnvelope),
        E400, E401, E403, E404, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn change_member_role(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ChangeRoleRequest>,
) -> Reply {
    let user = UserId::from_uuid(parse_uuid("user_id", &path)?);
    let m = state
        .identity
        .change_member_role
        .execute(&actor, user, &body.role)
        .await?;
    env::ok(state.version, MembershipDto::from(m))
}

/// Remove a member (owners only; never the last owner).
#[utoipa::path(
    delete, path = "/api/v1/members/{user_id}", tag = "members",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("user_id" = Uuid, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        E400, E401, E403, E404, E409, E429, E500, E503,
    )
)]
pub async fn remove_member(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let user = UserId::from_uuid(parse_uuid("user_id", &path)?);
    state.identity.remove_member.execute(&actor, user).await?;
    Ok(env::no_content())
}

// ------------------------------------------------------------------ API keys

/// The organization's API keys (owners only), newest first; never the secret.
#[utoipa::path(
    get, path = "/api/v1/api-keys", tag = "api-keys",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of API keys", body = ApiKeyListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_api_keys(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let keys = state.identity.list_api_keys.execute(&actor, page).await?;
    env::page(state.version, keys, ApiKeyDto::from)
}

/// Create an API key (owners only). The full key is in this response only.
#[utoipa::path(
    post, path = "/api/v1/api-keys", tag = "api-keys",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; `key` is shown once", body = CreatedApiKeyEnvelope,
         headers(("Location" = String, description = "`/api/v1/api-keys/{id}`"))),
        E400, E401, E403, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_api_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<CreateApiKeyRequest>,
) -> Reply {
    let b = body.into_inner();
    let k = state
        .identity
        .create_api_key
        .execute(
            &actor,
            NewApiKeyInput {
                name: b.name,
                role: b.role,
            },
        )
        .await?;
    let location = format!("/api/v1/api-keys/{}", k.key.id);
    env::created(state.version, &location, CreatedApiKeyDto::from(k))
}

/// Revoke an API key (owners only).
///
/// The instance that serves this call refuses the key at once; other
/// instances within 30 s (the lifetime of their key cache).
#[utoipa::path(
    delete, path = "/api/v1/api-keys/{id}", tag = "api-keys",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "The API key id")),
    responses(
        (status = 204, description = "Revoked"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn revoke_api_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = ApiKeyId::from_uuid(parse_uuid("id", &path)?);
    state.identity.revoke_api_key.execute(&actor, id).await?;
    Ok(env::no_content())
}
