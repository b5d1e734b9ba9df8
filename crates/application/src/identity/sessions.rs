use std::sync::{Arc, OnceLock};

use domain::ads::TimeZoneName;
use domain::error::ValidationError;
use domain::identity::{
    Actor, Email, Membership, MembershipRepository, Name, Organization, OrganizationRepository,
    Password, PasswordHasher, Principal, RefreshTokenRepository, Role, Secrets, User,
    UserRepository,
};
use domain::platform::Clock;
use domain::{TenantId, UserId};
use tracing::instrument;

use super::session::{Session, SessionIssuer};
use crate::{AppError, Resource};

const BAD_LOGIN: &str = "invalid e-mail or password";
const BAD_REFRESH: &str = "invalid or expired refresh token";

fn collect<T>(errors: &mut ValidationError, r: Result<T, ValidationError>) -> Option<T> {
    r.map_err(|e| errors.merge(e)).ok()
}

// ------------------------------------------------------------------ register

pub struct RegisterInput {
    pub organization_name: String,
    /// The organization's IANA time zone; `UTC` when absent.
    pub timezone: Option<String>,
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct Registered {
    pub user: User,
    pub organization: Organization,
    pub session: Session,
}

/// Creates an organization with its first user as owner, and signs them in.
pub struct Register {
    orgs: Arc<dyn OrganizationRepository>,
    hasher: Arc<dyn PasswordHasher>,
    sessions: SessionIssuer,
    clock: Arc<dyn Clock>,
}

impl Register {
    #[must_use]
    pub fn new(
        orgs: Arc<dyn OrganizationRepository>,
        hasher: Arc<dyn PasswordHasher>,
        sessions: SessionIssuer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            orgs,
            hasher,
            sessions,
            clock,
        }
    }

    /// # Errors
    /// Validation (422), e-mail taken (409 `EMAIL_TAKEN`), storage failures.
    #[instrument(skip_all)]
    pub async fn execute(&self, input: RegisterInput) -> Result<Registered, AppError> {
        let mut errors = ValidationError::default();
        let org_name = collect(
            &mut errors,
            Name::parse("organization_name", &input.organization_name),
        );
        let timezone = collect(
            &mut errors,
            TimeZoneName::parse(
                input
                    .timezone
                    .as_deref()
                    .unwrap_or(Organization::DEFAULT_TIMEZONE),
            ),
        );
        let name = collect(&mut errors, Name::parse("name", &input.name));
        let email = collect(&mut errors, Email::parse(&input.email));
        let password = collect(&mut errors, Password::parse(&input.password));
        let (Some(org_name), Some(timezone), Some(name), Some(email), Some(password)) =
            (org_name, timezone, name, email, password)
        else {
            return Err(errors.into());
        };
        let now = self.clock.now();
        let organization = Organization {
            id: TenantId::generate(),
            name: org_name.into_string(),
            timezone: timezone.as_str().to_owned(),
            created_at: now,
        };
        let user = User {
            id: UserId::generate(),
            email: email.as_str().to_owned(),
            name: name.into_string(),
            password_hash: self.hasher.hash(&password).await?,
            created_at: now,
        };
        self.orgs
            .create_with_owner(&organization, &user)
            .await
            .map_err(email_taken)?;
        let session = self
            .sessions
            .issue(user.id, organization.id, Role::Owner, None)
            .await?;
        Ok(Registered {
            user,
            organization,
            session,
        })
    }
}

fn email_taken(e: domain::RepoError) -> AppError {
    match e {
        domain::RepoError::Conflict(_) => {
            AppError::conflict("EMAIL_TAKEN", "an account with this e-mail already exists")
        }
        other => other.into(),
    }
}

// ------------------------------------------------------------------ login

pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Which organization to sign in to; the oldest membership when absent.
    pub organization_id: Option<TenantId>,
}

/// Checks a password and opens a session in one of the user's organizations.
pub struct Login {
    users: Arc<dyn UserRepository>,
    memberships: Arc<dyn MembershipRepository>,
    hasher: Arc<dyn PasswordHasher>,
    sessions: SessionIssuer,
    /// A real hash to verify against when the e-mail is unknown, so both
    /// failures take the same time (no account enumeration by timing).
    decoy: OnceLock<String>,
}

impl Login {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        memberships: Arc<dyn MembershipRepository>,
        hasher: Arc<dyn PasswordHasher>,
        sessions: SessionIssuer,
    ) -> Self {
        Self {
            users,
            memberships,
            hasher,
            sessions,
            decoy: OnceLock::new(),
        }
    }

    async fn decoy_hash(&self) -> Result<&str, AppError> {
        if self.decoy.get().is_none() {
            let pw = Password::parse("decoy-password-never-used")?;
            let h = self.hasher.hash(&pw).await?;
            let _ = self.decoy.set(h);
        }
        Ok(self.decoy.get().map_or("", String::as_str))
    }

    /// # Errors
    /// `Unauthorized` for an unknown e-mail, a wrong password or no membership.
    #[instrument(skip_all)]
    pub async fn execute(&self, input: LoginInput) -> Result<Session, AppError> {
        let (Ok(email), Ok(password)) =
            (Email::parse(&input.email), Password::parse(&input.password))
        else {
            return Err(AppError::Unauthorized(BAD_LOGIN));
        };
        let Some(user) = self.users.find_by_email(&email).await? else {
            let decoy = self.decoy_hash().await?.to_owned();
            let _ = self.hasher.verify(&password, &decoy).await;
            return Err(AppError::Unauthorized(BAD_LOGIN));
        };
        // A member added by invitation has no password yet: verification fails.
        if !self
            .hasher
            .verify(&password, &user.password_hash)
            .await
            .unwrap_or(false)
        {
            return Err(AppError::Unauthorized(BAD_LOGIN));
        }
        let memberships = self.memberships.of_user(user.id).await?;
        let m = match input.organization_id {
            Some(t) => memberships.into_iter().find(|m| m.tenant_id == t),
            None => memberships.into_iter().next(),
        }
        .ok_or(AppError::Unauthorized(
            "you are not a member of this organization",
        ))?;
        self.sessions
            .issue(user.id, m.tenant_id, m.role, None)
            .await
    }
}

// ------------------------------------------------------------------ refresh

/// Rotates a refresh token: the presented one is spent and a new pair issued
/// in the same family. Presenting a spent token again revokes the whole family
/// (someone else holds a copy).
pub struct RefreshSession {
    refresh: Arc<dyn RefreshTokenRepository>,
    memberships: Arc<dyn MembershipRepository>,
    secrets: Arc<dyn Secrets>,
    sessions: SessionIssuer,
    clock: Arc<dyn Clock>,
}

impl RefreshSession {
    #[must_use]
    pub fn new(
        refresh: Arc<dyn RefreshTokenRepository>,
        memberships: Arc<dyn MembershipRepository>,
        secrets: Arc<dyn Secrets>,
        sessions: SessionIssuer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            refresh,
            memberships,
            secrets,
            sessions,
            clock,
        }
    }

    /// # Errors
    /// `Unauthorized` for an unknown, expired, revoked or reused token.
    #[instrument(skip_all)]
    pub async fn execute(&self, refresh_token: &str) -> Result<Session, AppError> {
        let now = self.clock.now();
        let hash = self.secrets.digest(refresh_token);
        let Some(token) = self.refresh.find_by_hash(&hash).await? else {
            return Err(AppError::Unauthorized(BAD_REFRESH));
        };
        if token.revoked_at.is_some()
            || token.used_at.is_some()
            || !self.refresh.spend(token.id, now).await?
        {
            tracing::warn!(family = %token.family_id, "refresh token reuse: revoking its family");
            self.refresh.revoke_family(token.family_id, now).await?;
            return Err(AppError::Unauthorized(BAD_REFRESH));
        }
        if token.expires_at <= now {
            return Err(AppError::Unauthorized(BAD_REFRESH));
        }
        let Some(m) = self
            .memberships
            .find(token.tenant_id, token.user_id)
            .await?
        else {
            self.refresh.revoke_family(token.family_id, now).await?;
            return Err(AppError::Unauthorized(
                "you are no longer a member of this organization",
            ));
        };
        self.sessions
            .issue(m.user_id, m.tenant_id, m.role, Some(token.family_id))
            .await
    }
}

/// Ends a session: the refresh token's whole family is revoked. Idempotent.
pub struct Logout {
    refresh: Arc<dyn RefreshTokenRepository>,
    secrets: Arc<dyn Secrets>,
    clock: Arc<dyn Clock>,
}

impl Logout {
    #[must_use]
    pub fn new(
        refresh: Arc<dyn RefreshTokenRepository>,
        secrets: Arc<dyn Secrets>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            refresh,
            secrets,
            clock,
        }
    }

    /// # Errors
    /// Storage failures only; unknown tokens are ignored.
    pub async fn execute(&self, refresh_token: &str) -> Result<(), AppError> {
        let hash = self.secrets.digest(refresh_token);
        if let Some(t) = self.refresh.find_by_hash(&hash).await? {
            self.refresh
                .revoke_family(t.family_id, self.clock.now())
                .await?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ me

#[derive(Debug, Clone)]
pub struct Me {
    /// `None` when the caller is an API key.
    pub user: Option<User>,
    pub organization: Organization,
    pub role: Role,
}

pub struct GetMe {
    users: Arc<dyn UserRepository>,
    orgs: Arc<dyn OrganizationRepository>,
}

impl GetMe {
    #[must_use]
    pub fn new(users: Arc<dyn UserRepository>, orgs: Arc<dyn OrganizationRepository>) -> Self {
        Self { users, orgs }
    }

    /// # Errors
    /// Storage failures; a deleted organization or user gives `Unauthorized`.
    pub async fn execute(&self, actor: &Actor) -> Result<Me, AppError> {
        let organization = self
            .orgs
            .find(actor.tenant_id)
            .await?
            .ok_or(AppError::Unauthorized("organization no longer exists"))?;
        let user = match actor.principal {
            Principal::User(id) => Some(
                self.users
                    .find(id)
                    .await?
                    .ok_or(AppError::Unauthorized("user no longer exists"))?,
            ),
            Principal::ApiKey(_) | Principal::System => None,
        };
        Ok(Me {
            user,
            organization,
            role: actor.role,
        })
    }
}

// ------------------------------------------------------------------ create user (CLI)

pub struct CreateUserInput {
    pub email: String,
    pub name: String,
    pub password: String,
    /// Join this organization; when `None`, a new organization named
    /// `organization_name` is created with the user as owner.
    pub organization_id: Option<TenantId>,
    pub organization_name: Option<String>,
    pub role: Role,
}

/// The operator's way in (`adscale user create`): a user with a password, in a
/// new or existing organization.
pub struct CreateUser {
    users: Arc<dyn UserRepository>,
    orgs: Arc<dyn OrganizationRepository>,
    memberships: Arc<dyn MembershipRepository>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
}

impl CreateUser {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        orgs: Arc<dyn OrganizationRepository>,
        memberships: Arc<dyn MembershipRepository>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            orgs,
            memberships,
            hasher,
            clock,
        }
    }

    /// # Errors
    /// Validation, unknown organization, e-mail taken, storage failures.
    pub async fn execute(&self, input: CreateUserInput) -> Result<(User, Organization), AppError> {
        let mut errors = ValidationError::default();
        let name = collect(&mut errors, Name::parse("name", &input.name));
        let email = collect(&mut errors, Email::parse(&input.email));
        let password = collect(&mut errors, Password::parse(&input.password));
        let org_name = match (&input.organization_id, &input.organization_name) {
            (None, Some(n)) => collect(&mut errors, Name::parse("organization_name", n)),
            (None, None) => {
                errors.add(
                    "organization",
                    "give an organization id or a name for a new one",
                );
                None
            }
            (Some(_), _) => None,
        };
        let (Some(name), Some(email), Some(password)) = (name, email, password) else {
            return Err(errors.into());
        };
        errors.into_result()?;
        let now = self.clock.now();
        let user = User {
            id: UserId::generate(),
            email: email.as_str().to_owned(),
            name: name.into_string(),
            password_hash: self.hasher.hash(&password).await?,
            created_at: now,
        };
        if let Some(t) = input.organization_id {
            let org = self
                .orgs
                .find(t)
                .await?
                .ok_or(AppError::NotFound(Resource::Organization))?;
            self.users.insert(&user).await.map_err(email_taken)?;
            self.memberships
                .add(&Membership {
                    tenant_id: t,
                    user_id: user.id,
                    role: input.role,
                    created_at: now,
                })
                .await?;
            return Ok((user, org));
        }
        let org = Organization {
            id: TenantId::generate(),
            name: org_name.map(Name::into_string).unwrap_or_default(),
            timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
            created_at: now,
        };
        self.orgs
            .create_with_owner(&org, &user)
            .await
            .map_err(email_taken)?;
        Ok((user, org))
    }
}
