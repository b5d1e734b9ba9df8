//! Managing notification channels. Any member reads; admins and owners
//! create, change, delete and test them (audited, without the target: the
//! audit log shows the redacted display only).

use std::sync::Arc;

use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::ingestion::SecretBox;
use domain::notify::{
    Alert, AlertKind, AlertOutbox, ChannelFilter, ChannelId, ChannelKind, ChannelTarget,
    NotificationChannel, NotificationChannelRepository, Severity, channel_name,
};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use serde_json::{Value, json};

use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// A new channel as the API gives it: `config` is the target's fields for
/// `kind` (`{webhook_url}`, `{to: [...]}` or `{url, secret}`).
#[derive(Debug, Clone, Default)]
pub struct ChannelInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub config: Option<Value>,
    /// Alert kinds to send (wire names); empty or absent: all.
    pub events: Option<Vec<String>>,
    pub min_severity: Option<String>,
    pub enabled: Option<bool>,
}

/// Changes to a channel; absent fields stay. `min_severity: Some(None)`
/// clears it. The kind cannot change; `config` replaces the whole target.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatchInput {
    pub name: Option<String>,
    pub config: Option<Value>,
    pub events: Option<Vec<String>>,
    pub min_severity: Option<Option<String>>,
    pub enabled: Option<bool>,
}

fn parse_events(events: &[String], errors: &mut ValidationError) -> Vec<AlertKind> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match e.parse::<AlertKind>() {
            Ok(AlertKind::Test) | Err(_) => errors.add(
                &format!("events[{i}]"),
                "must be one of suggestion.created, anomaly.detected, sync.failed, token.expired, action.applied, action.failed",
            ),
            Ok(k) if !out.contains(&k) => out.push(k),
            Ok(_) => {}
        }
    }
    out
}

fn parse_severity(s: &str, errors: &mut ValidationError) -> Option<Severity> {
    s.parse::<Severity>()
        .map_err(|_| errors.add("min_severity", "must be one of info, warning, critical"))
        .ok()
}

fn audit_json(c: &NotificationChannel) -> Value {
    json!({
        "name": c.name,
        "kind": c.kind.as_str(),
        "target": c.display,
        "events": c.filter.events.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "min_severity": c.filter.min_severity.map(Severity::as_str),
        "enabled": c.enabled,
    })
}

fn seal(secrets: &dyn SecretBox, target: &ChannelTarget) -> Result<Vec<u8>, AppError> {
    secrets
        .seal(&target.to_sealed_json())
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Creates a channel (admins and up).
pub struct CreateChannel {
    repo: Arc<dyn NotificationChannelRepository>,
    secrets: Arc<dyn SecretBox>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl CreateChannel {
    #[must_use]
    pub fn new(
        repo: Arc<dyn NotificationChannelRepository>,
        secrets: Arc<dyn SecretBox>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            repo,
            secrets,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden below admin; 422 listing every invalid field.
    pub async fn execute(
        &self,
        actor: &Actor,
        input: ChannelInput,
    ) -> Result<NotificationChannel, AppError> {
        require(actor, Permission::Write)?;
        let mut errors = ValidationError::default();
        let name = channel_name(input.name.as_deref().unwrap_or_default())
            .map_err(|e| errors.merge(e))
            .ok();
        let kind = match input.kind.as_deref() {
            None => {
                errors.add("kind", "is required");
                None
            }
            Some(k) => ChannelKind::parse(k).map_err(|e| errors.merge(e)).ok(),
        };
        let target = match (kind, &input.config) {
            (Some(_), None) => {
                errors.add("config", "is required");
                None
            }
            (Some(kind), Some(config)) => ChannelTarget::from_config(kind, config)
                .map_err(|e| errors.merge(e))
                .ok(),
            (None, _) => None,
        };
        let events = parse_events(input.events.as_deref().unwrap_or_default(), &mut errors);
        let min_severity = input
            .min_severity
            .as_deref()
            .and_then(|s| parse_severity(s, &mut errors));
        let (Some(name), Some(target)) = (name, target) else {
            return Err(errors.into());
        };
        errors.into_result()?;
        let now = self.clock.now();
        let channel = NotificationChannel {
            id: ChannelId::generate(),
            tenant_id: actor.tenant_id,
            name,
            kind: target.kind(),
            display: target.display(),
            filter: ChannelFilter {
                events,
                min_severity,
            },
            enabled: input.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let sealed = seal(self.secrets.as_ref(), &target)?;
        self.repo.create(&channel, &sealed).await?;
        self.audit
            .record(
                actor,
                "notification_channel.create",
                "notification_channel",
                &channel.id.to_string(),
                None,
                Some(audit_json(&channel)),
            )
            .await;
        Ok(channel)
    }
}

/// The tenant's channels, newest first (any member).
pub struct ListChannels {
    repo: Arc<dyn NotificationChannelRepository>,
}

impl ListChannels {
    #[must_use]
    pub fn new(repo: Arc<dyn NotificationChannelRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<NotificationChannel>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.repo.list(actor.tenant_id, page).await?)
    }
}

/// One channel (any member).
pub struct GetChannel {
    repo: Arc<dyn NotificationChannelRepository>,
}

impl GetChannel {
    #[must_use]
    pub fn new(repo: Arc<dyn NotificationChannelRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// 404 for a missing, deleted or foreign id.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: ChannelId,
    ) -> Result<NotificationChannel, AppError> {
        require(actor, Permission::Read)?;
        self.repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::NotificationChannel))
    }
}

/// Changes a channel (admins and up).
pub struct UpdateChannel {
    repo: Arc<dyn NotificationChannelRepository>,
    secrets: Arc<dyn SecretBox>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl UpdateChannel {
    #[must_use]
    pub fn new(
        repo: Arc<dyn NotificationChannelRepository>,
        secrets: Arc<dyn SecretBox>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            repo,
            secrets,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden below admin; 404 for a missing or foreign id; 422 listing
    /// every invalid field.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: ChannelId,
        patch: ChannelPatchInput,
    ) -> Result<NotificationChannel, AppError> {
        require(actor, Permission::Write)?;
        let before = self
            .repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::NotificationChannel))?;
        let mut after = before.clone();
        let mut errors = ValidationError::default();
        if let Some(name) = &patch.name {
            match channel_name(name) {
                Ok(n) => after.name = n,
                Err(e) => errors.merge(e),
            }
        }
        let mut target = None;
        if let Some(config) = &patch.config {
            match ChannelTarget::from_config(before.kind, config) {
                Ok(t) => {
                    after.display = t.display();
                    target = Some(t);
                }
                Err(e) => errors.merge(e),
            }
        }
        if let Some(events) = &patch.events {
            after.filter.events = parse_events(events, &mut errors);
        }
        if let Some(min) = &patch.min_severity {
            after.filter.min_severity = min.as_deref().and_then(|s| parse_severity(s, &mut errors));
        }
        if let Some(enabled) = patch.enabled {
            after.enabled = enabled;
        }
        errors.into_result()?;
        after.updated_at = self.clock.now();
        let sealed = target
            .as_ref()
            .map(|t| seal(self.secrets.as_ref(), t))
            .transpose()?;
        if !self.repo.update(&after, sealed).await? {
            return Err(AppError::NotFound(Resource::NotificationChannel));
        }
        self.audit
            .record(
                actor,
                "notification_channel.update",
                "notification_channel",
                &id.to_string(),
                Some(audit_json(&before)),
                Some(audit_json(&after)),
            )
            .await;
        Ok(after)
    }
}

/// Deletes a channel (admins and up): it receives nothing more; its pending
/// deliveries fail and its past ones stay visible on the alerts.
pub struct DeleteChannel {
    repo: Arc<dyn NotificationChannelRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl DeleteChannel {
    #[must_use]
    pub fn new(
        repo: Arc<dyn NotificationChannelRepository>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self { repo, clock, audit }
    }

    /// # Errors
    /// Forbidden below admin; 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: ChannelId) -> Result<(), AppError> {
        require(actor, Permission::Write)?;
        let before = self
            .repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::NotificationChannel))?;
        if !self
            .repo
            .delete(actor.tenant_id, id, self.clock.now())
            .await?
        {
            return Err(AppError::NotFound(Resource::NotificationChannel));
        }
        self.audit
            .record(
                actor,
                "notification_channel.delete",
                "notification_channel",
                &id.to_string(),
                Some(audit_json(&before)),
                None,
            )
            .await;
        Ok(())
    }
}

/// Queues a test alert to one channel (admins and up); a worker delivers it
/// like any other, and `GET /alerts/{id}` shows how it went.
pub struct TestChannel {
    repo: Arc<dyn NotificationChannelRepository>,
    outbox: Arc<dyn AlertOutbox>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl TestChannel {
    #[must_use]
    pub fn new(
        repo: Arc<dyn NotificationChannelRepository>,
        outbox: Arc<dyn AlertOutbox>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            repo,
            outbox,
            clock,
            audit,
        }
    }

    /// Returns the queued test alert.
    ///
    /// # Errors
    /// Forbidden below admin; 404 for a missing or foreign id; 409
    /// `CHANNEL_DISABLED` for a disabled channel.
    pub async fn execute(&self, actor: &Actor, id: ChannelId) -> Result<Alert, AppError> {
        require(actor, Permission::Write)?;
        let channel = self
            .repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::NotificationChannel))?;
        if !channel.enabled {
            return Err(AppError::conflict(
                "CHANNEL_DISABLED",
                "the channel is disabled; enable it to test it",
            ));
        }
        let alert = Alert::channel_test(actor.tenant_id, &channel.name, self.clock.now());
        if !self.outbox.enqueue_to(&alert, id).await? {
            return Err(AppError::NotFound(Resource::NotificationChannel));
        }
        self.audit
            .record(
                actor,
                "notification_channel.test",
                "notification_channel",
                &id.to_string(),
                None,
                Some(json!({"alert_id": alert.id.to_string()})),
            )
            .await;
        Ok(alert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::audit::MockAuditLogRepository;
    use domain::identity::Role;
    use domain::ingestion::{AccessToken, MockSecretBox};
    use domain::notify::MockNotificationChannelRepository;
    use domain::platform::MockClock;
    use time::macros::datetime;

    use crate::testing::actor;

    fn create(repo: MockNotificationChannelRepository) -> CreateChannel {
        let mut secrets = MockSecretBox::new();
        secrets
            .expect_seal()
            .returning(|plain| Ok(format!("sealed:{plain}").into_bytes()));
        secrets
            .expect_open()
            .returning(|_| Ok(AccessToken::new("x")));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-01-01 00:00 UTC));
        let mut audit = MockAuditLogRepository::new();
        audit.expect_append().returning(|_| Ok(()));
        let clock: Arc<dyn Clock> = Arc::new(clock);
        CreateChannel::new(
            Arc::new(repo),
            Arc::new(secrets),
            clock.clone(),
            Auditor::new(Arc::new(audit), clock),
        )
    }

    #[tokio::test]
    async fn a_webhook_channel_is_stored_sealed_and_shown_redacted() {
        let mut repo = MockNotificationChannelRepository::new();
        repo.expect_create()
            .withf(|c, sealed| {
                let sealed = String::from_utf8_lossy(sealed);
                c.display == "https://example.com/<redacted>"
                    && sealed.contains("FAKE-secret-0123456789")
                    && sealed.starts_with("sealed:")
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let c = create(repo)
            .execute(
                &actor(Role::Admin),
                ChannelInput {
                    name: Some(" Ops hook ".into()),
                    kind: Some("webhook".into()),
                    config: Some(json!({"url": "https://example.com/h/FAKE", "secret": "FAKE-secret-0123456789"})),
                    events: Some(vec!["sync.failed".into(), "sync.failed".into()]),
                    min_severity: Some("warning".into()),
                    enabled: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(c.name, "Ops hook");
        assert_eq!(c.filter.events, [AlertKind::SyncFailed]);
        assert_eq!(c.filter.min_severity, Some(Severity::Warning));
        assert!(c.enabled);
        assert!(!format!("{c:?}").contains("FAKE"));
    }

    #[tokio::test]
    async fn invalid_fields_are_all_listed_and_nothing_is_stored() {
        let mut repo = MockNotificationChannelRepository::new();
        repo.expect_create().never();
        let err = create(repo)
            .execute(
                &actor(Role::Owner),
                ChannelInput {
                    name: Some(String::new()),
                    kind: Some("slack".into()),
                    config: Some(json!({"webhook_url": "http://hooks.example.com/x"})),
                    events: Some(vec!["nope".into()]),
                    min_severity: Some("loud".into()),
                    enabled: None,
                },
            )
            .await
            .unwrap_err();
        let AppError::Validation(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<&str> = v.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["config.webhook_url", "events[0]", "min_severity", "name"]
        );
    }

    #[tokio::test]
    async fn analysts_cannot_create_channels() {
        let mut repo = MockNotificationChannelRepository::new();
        repo.expect_create().never();
        let err = create(repo)
            .execute(&actor(Role::Analyst), ChannelInput::default())
            .await
            .unwrap_err();
        assert_eq!(err, AppError::Forbidden);
    }
}
