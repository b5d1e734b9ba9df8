use std::sync::Arc;

use domain::UserId;
use domain::error::ValidationError;
use domain::identity::{
    Actor, Email, Member, Membership, MembershipRepository, Name, Permission, Role, User,
    UserRepository,
};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use serde_json::json;

use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

fn member_json(m: &Member) -> serde_json::Value {
    json!({"user_id": m.user_id.to_string(), "email": m.email, "role": m.role.as_str()})
}

pub struct ListMembers {
    memberships: Arc<dyn MembershipRepository>,
}

impl ListMembers {
    #[must_use]
    pub fn new(memberships: Arc<dyn MembershipRepository>) -> Self {
        Self { memberships }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Member>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.memberships.list(actor.tenant_id, page).await?)
    }
}

pub struct AddMemberInput {
    pub email: String,
    pub name: Option<String>,
    pub role: String,
}

/// Adds a person to the organization. An existing account joins as is; a new
/// e-mail gets an account without a password (it cannot sign in until the
/// invitation flow of the notify issue sets one).
pub struct AddMember {
    users: Arc<dyn UserRepository>,
    memberships: Arc<dyn MembershipRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl AddMember {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        memberships: Arc<dyn MembershipRepository>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            users,
            memberships,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden unless owner; validation; `ALREADY_MEMBER`.
    pub async fn execute(&self, actor: &Actor, input: AddMemberInput) -> Result<Member, AppError> {
        require(actor, Permission::Manage)?;
        let mut errors = ValidationError::default();
        let email = Email::parse(&input.email).map_err(|e| errors.merge(e)).ok();
        let role = Role::parse(&input.role).map_err(|e| errors.merge(e)).ok();
        let (Some(email), Some(role)) = (email, role) else {
            return Err(errors.into());
        };
        let now = self.clock.now();
        let user = match self.users.find_by_email(&email).await? {
            Some(u) => u,
            None => {
                let name =
                    Name::parse("name", input.name.as_deref().unwrap_or("")).map_err(|_| {
                        ValidationError::new("name", "is required for a person without an account")
                    })?;
                let u = User {
                    id: UserId::generate(),
                    email: email.as_str().to_owned(),
                    name: name.into_string(),
                    password_hash: String::new(),
                    created_at: now,
                };
                self.users.insert(&u).await?;
                u
            }
        };
        let m = Membership {
            tenant_id: actor.tenant_id,
            user_id: user.id,
            role,
            created_at: now,
        };
        self.memberships.add(&m).await.map_err(|e| match e {
            domain::RepoError::Conflict(_) => {
                AppError::conflict("ALREADY_MEMBER", "this person is already a member")
            }
            other => other.into(),
        })?;
        let member = Member {
            user_id: user.id,
            email: user.email,
            name: user.name,
            role,
            joined_at: now,
        };
        self.audit
            .record(
                actor,
                "member.add",
                "member",
                &member.user_id.to_string(),
                None,
                Some(member_json(&member)),
            )
            .await;
        Ok(member)
    }
}

/// Refuses to leave an organization without an owner.
async fn ensure_not_last_owner(
    memberships: &dyn MembershipRepository,
    actor: &Actor,
    target: &Membership,
) -> Result<(), AppError> {
    if target.role == Role::Owner && memberships.count_owners(actor.tenant_id).await? <= 1 {
        return Err(AppError::conflict(
            "LAST_OWNER",
            "an organization must keep at least one owner",
        ));
    }
    Ok(())
}

pub struct ChangeMemberRole {
    memberships: Arc<dyn MembershipRepository>,
    audit: Auditor,
}

impl ChangeMemberRole {
    #[must_use]
    pub fn new(memberships: Arc<dyn MembershipRepository>, audit: Auditor) -> Self {
        Self { memberships, audit }
    }

    /// # Errors
    /// Forbidden unless owner; 404 for a non-member; `LAST_OWNER`.
    pub async fn execute(
        &self,
        actor: &Actor,
        user: UserId,
        role: &str,
    ) -> Result<Membership, AppError> {
        require(actor, Permission::Manage)?;
        let role = Role::parse(role)?;
        let current = self
            .memberships
            .find(actor.tenant_id, user)
            .await?
            .ok_or(AppError::NotFound(Resource::Member))?;
        if current.role != role {
            if role != Role::Owner {
                ensure_not_last_owner(self.memberships.as_ref(), actor, &current).await?;
            }
            if !self
                .memberships
                .set_role(actor.tenant_id, user, role)
                .await?
            {
                return Err(AppError::NotFound(Resource::Member));
            }
            self.audit
                .record(
                    actor,
                    "member.role",
                    "member",
                    &user.to_string(),
                    Some(json!({"role": current.role.as_str()})),
                    Some(json!({"role": role.as_str()})),
                )
                .await;
        }
        Ok(Membership { role, ..current })
    }
}

pub struct RemoveMember {
    memberships: Arc<dyn MembershipRepository>,
    audit: Auditor,
}

impl RemoveMember {
    #[must_use]
    pub fn new(memberships: Arc<dyn MembershipRepository>, audit: Auditor) -> Self {
        Self { memberships, audit }
    }

    /// # Errors
    /// Forbidden unless owner; 404 for a non-member; `LAST_OWNER`.
    pub async fn execute(&self, actor: &Actor, user: UserId) -> Result<(), AppError> {
        require(actor, Permission::Manage)?;
        let current = self
            .memberships
            .find(actor.tenant_id, user)
            .await?
            .ok_or(AppError::NotFound(Resource::Member))?;
        ensure_not_last_owner(self.memberships.as_ref(), actor, &current).await?;
        if !self.memberships.remove(actor.tenant_id, user).await? {
            return Err(AppError::NotFound(Resource::Member));
        }
        self.audit
            .record(
                actor,
                "member.remove",
                "member",
                &user.to_string(),
                Some(json!({"role": current.role.as_str()})),
                None,
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::identity::MockMembershipRepository;
    use time::macros::datetime;

    fn auditor() -> Auditor {
        crate::testing::auditor(None)
    }

    use crate::testing::actor;

    fn membership(a: &Actor, role: Role) -> Membership {
        Membership {
            tenant_id: a.tenant_id,
            user_id: UserId::generate(),
            role,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[tokio::test]
    async fn refuses_to_remove_the_last_owner() {
        let a = actor(Role::Owner);
        let target = membership(&a, Role::Owner);
        let mut repo = MockMembershipRepository::new();
        let t = target.clone();
        repo.expect_find()
            .returning(move |_, _| Ok(Some(t.clone())));
        repo.expect_count_owners().returning(|_| Ok(1));
        repo.expect_remove().never();
        let err = RemoveMember::new(Arc::new(repo), auditor())
            .execute(&a, target.user_id)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            AppError::Conflict {
                code: "LAST_OWNER",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn admins_cannot_change_roles() {
        let mut repo = MockMembershipRepository::new();
        repo.expect_set_role().never();
        let err = ChangeMemberRole::new(Arc::new(repo), auditor())
            .execute(&actor(Role::Admin), UserId::generate(), "viewer")
            .await
            .unwrap_err();
        assert_eq!(err, AppError::Forbidden);
    }

    #[tokio::test]
    async fn demotes_an_owner_when_another_remains() {
        let a = actor(Role::Owner);
        let target = membership(&a, Role::Owner);
        let mut repo = MockMembershipRepository::new();
        let t = target.clone();
        repo.expect_find()
            .returning(move |_, _| Ok(Some(t.clone())));
        repo.expect_count_owners().returning(|_| Ok(2));
        repo.expect_set_role()
            .withf(|_, _, r| *r == Role::Admin)
            .times(1)
            .returning(|_, _, _| Ok(true));
        let m = ChangeMemberRole::new(Arc::new(repo), auditor())
            .execute(&a, target.user_id, "admin")
            .await
            .unwrap();
        assert_eq!(m.role, Role::Admin);
    }
}
