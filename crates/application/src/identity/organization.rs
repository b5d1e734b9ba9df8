use std::sync::Arc;

use domain::ads::TimeZoneName;
use domain::error::ValidationError;
use domain::identity::{
    Actor, Name, Organization, OrganizationPatch, OrganizationRepository, Permission,
};
use serde_json::json;

use crate::AppError;
use crate::audit::Auditor;
use crate::error::require;

/// What a token for a deleted organization is told (as `GET /me` does).
const GONE: AppError = AppError::Unauthorized("organization no longer exists");

fn audit_json(o: &Organization) -> serde_json::Value {
    json!({"name": o.name, "timezone": o.timezone})
}

/// The caller's own organization: any member may read it.
pub struct GetOrganization {
    orgs: Arc<dyn OrganizationRepository>,
}

impl GetOrganization {
    #[must_use]
    pub fn new(orgs: Arc<dyn OrganizationRepository>) -> Self {
        Self { orgs }
    }

    /// # Errors
    /// Storage failures; a deleted organization gives `Unauthorized`.
    pub async fn execute(&self, actor: &Actor) -> Result<Organization, AppError> {
        require(actor, Permission::Read)?;
        self.orgs.find(actor.tenant_id).await?.ok_or(GONE)
    }
}

#[derive(Debug, Default)]
pub struct OrganizationPatchInput {
    pub name: Option<String>,
    /// An IANA time zone such as `America/Sao_Paulo`.
    pub timezone: Option<String>,
}

/// Renames the caller's organization or changes its time zone (admins and
/// owners). Only the caller's own tenant can be named, so no other
/// organization is reachable; every bad field is reported at once and
/// nothing is written then.
pub struct UpdateOrganization {
    orgs: Arc<dyn OrganizationRepository>,
    audit: Auditor,
}

impl UpdateOrganization {
    #[must_use]
    pub fn new(orgs: Arc<dyn OrganizationRepository>, audit: Auditor) -> Self {
        Self { orgs, audit }
    }

    /// # Errors
    /// Forbidden below admin; validation (`name`, `timezone`); storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        input: OrganizationPatchInput,
    ) -> Result<Organization, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let patch = OrganizationPatch {
            name: input.name.and_then(|s| {
                Name::parse("name", &s)
                    .map(Name::into_string)
                    .map_err(|x| e.merge(x))
                    .ok()
            }),
            timezone: input.timezone.and_then(|s| {
                TimeZoneName::parse(&s)
                    .map(|z| z.as_str().to_owned())
                    .map_err(|x| e.merge(x))
                    .ok()
            }),
        };
        e.into_result()?;
        let before = self.orgs.find(actor.tenant_id).await?.ok_or(GONE)?;
        if patch.is_empty() {
            return Ok(before);
        }
        let after = self
            .orgs
            .update(actor.tenant_id, &patch)
            .await?
            .ok_or(GONE)?;
        self.audit
            .record(
                actor,
                "organization.update",
                "organization",
                &actor.tenant_id.to_string(),
                Some(audit_json(&before)),
                Some(audit_json(&after)),
            )
            .await;
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::identity::{MockOrganizationRepository, Role};
    use time::macros::datetime;

    fn auditor(entries: usize) -> Auditor {
        crate::testing::auditor(Some(entries))
    }

    use crate::testing::actor;

    fn organization(a: &Actor) -> Organization {
        Organization {
            id: a.tenant_id,
            name: "Acme".to_owned(),
            timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[tokio::test]
    async fn reports_every_bad_field_and_writes_nothing() {
        let a = actor(Role::Owner);
        let mut repo = MockOrganizationRepository::new();
        repo.expect_update().never();
        let err = UpdateOrganization::new(Arc::new(repo), auditor(0))
            .execute(
                &a,
                OrganizationPatchInput {
                    name: Some("  ".to_owned()),
                    timezone: Some("Not a zone".to_owned()),
                },
            )
            .await
            .unwrap_err();
        let AppError::Validation(v) = err else {
            panic!("expected a validation error, got {err:?}");
        };
        assert_eq!(
            v.fields.keys().collect::<Vec<_>>(),
            ["name", "timezone"],
            "{v:?}"
        );
    }

    #[tokio::test]
    async fn analysts_cannot_change_the_organization() {
        let a = actor(Role::Analyst);
        let mut repo = MockOrganizationRepository::new();
        repo.expect_find().never();
        repo.expect_update().never();
        let err = UpdateOrganization::new(Arc::new(repo), auditor(0))
            .execute(
                &a,
                OrganizationPatchInput {
                    timezone: Some("Europe/Lisbon".to_owned()),
                    ..OrganizationPatchInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err, AppError::Forbidden);
    }

    #[tokio::test]
    async fn admins_change_the_time_zone_of_their_own_organization_only() {
        let a = actor(Role::Admin);
        let before = organization(&a);
        let mut repo = MockOrganizationRepository::new();
        let b = before.clone();
        repo.expect_find()
            .withf(move |t| *t == a.tenant_id)
            .returning(move |_| Ok(Some(b.clone())));
        let b = before.clone();
        repo.expect_update()
            .withf(move |t, p| {
                *t == a.tenant_id
                    && p.name.is_none()
                    && p.timezone.as_deref() == Some("America/Sao_Paulo")
            })
            .times(1)
            .returning(move |_, p| {
                Ok(Some(Organization {
                    timezone: p.timezone.clone().unwrap_or_default(),
                    ..b.clone()
                }))
            });
        let after = UpdateOrganization::new(Arc::new(repo), auditor(1))
            .execute(
                &a,
                OrganizationPatchInput {
                    timezone: Some(" America/Sao_Paulo ".to_owned()),
                    ..OrganizationPatchInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(after.timezone, "America/Sao_Paulo");
        assert_eq!(after.name, before.name);
    }

    #[tokio::test]
    async fn an_empty_patch_changes_and_audits_nothing() {
        let a = actor(Role::Owner);
        let org = organization(&a);
        let mut repo = MockOrganizationRepository::new();
        let o = org.clone();
        repo.expect_find().returning(move |_| Ok(Some(o.clone())));
        repo.expect_update().never();
        let got = UpdateOrganization::new(Arc::new(repo), auditor(0))
            .execute(&a, OrganizationPatchInput::default())
            .await
            .unwrap();
        assert_eq!(got, org);
    }
}
