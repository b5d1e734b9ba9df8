//! The assistant's conversations on [`Db`]: a conversation row and its
//! messages (figures as JSON `[{label, value, unit}]`, values as decimal
//! strings so no precision is lost). Deleting a conversation cascades to its
//! messages; appending messages runs in one transaction with `updated_at`.
//! An answer's or a summary's tokens go into the usage ledger (`llm_usage`)
//! in the same transaction, and stay there when the conversation is deleted.

use std::str::FromStr;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::assistant::chat::{
    AnswerMode, Conversation, ConversationId, ConversationRepository, Message, MessageId,
    MessageRole,
};
use domain::assistant::figures::Figure;
use domain::assistant::llm::TokenUsage;
use domain::page::{Page, PageRequest};
use domain::{RepoError, TenantId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Db;
use super::error::DbError;
use super::types::{DbId, DbJson, db_id};

macro_rules! conversation_columns {
    () => {
        (
            conversations::id,
            conversations::tenant_id,
            conversations::created_by,
            conversations::title,
            conversations::summary,
            conversations::summarized_through,
            conversations::created_at,
            conversations::updated_at,
        )
    };
}

macro_rules! message_columns {
    () => {
        (
            conversation_messages::id,
            conversation_messages::conversation_id,
            conversation_messages::role,
            conversation_messages::content,
            conversation_messages::figures,
            conversation_messages::mode,
            conversation_messages::intent,
            conversation_messages::prompt_tokens,
            conversation_messages::completion_tokens,
            conversation_messages::flag_reason,
            conversation_messages::created_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct ConversationRow {
    id: DbId,
    tenant_id: DbId,
    created_by: String,
    title: String,
    summary: Option<String>,
    summarized_through: Option<DbId>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Self {
            id: ConversationId::from_uuid(r.id.0),
            tenant_id: r.tenant_id.0.into(),
            user: r.created_by,
            title: r.title,
            summary: r.summary,
            summarized_through: r.summarized_through.map(|d| MessageId::from_uuid(d.0)),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Queryable)]
struct MessageRow {
    id: DbId,
    conversation_id: DbId,
    role: String,
    content: String,
    figures: DbJson,
    mode: Option<String>,
    intent: Option<String>,
    prompt_tokens: i64,
    completion_tokens: i64,
    flag_reason: Option<String>,
    created_at: OffsetDateTime,
}

/// A figure as stored (also in generated insights' findings).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct FigureJson {
    label: String,
    value: String,
    unit: String,
}

impl From<&Figure> for FigureJson {
    fn from(f: &Figure) -> Self {
        Self {
            label: f.label.clone(),
            value: f.value.to_string(),
            unit: f.unit.clone(),
        }
    }
}

impl FigureJson {
    /// The figure, or why the stored value is not a decimal.
    pub(super) fn into_figure(self) -> Result<Figure, String> {
        Ok(Figure {
            value: Decimal::from_str(&self.value).map_err(|e| e.to_string())?,
            label: self.label,
            unit: self.unit,
        })
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("conversation message {what}: {e}"))
}

fn figures_json(figures: &[Figure]) -> Result<DbJson, DbError> {
    let list: Vec<FigureJson> = figures.iter().map(FigureJson::from).collect();
    serde_json::to_value(list)
        .map(DbJson)
        .map_err(|e| corrupt("figures", e))
}

impl TryFrom<MessageRow> for Message {
    type Error = DbError;

    fn try_from(r: MessageRow) -> Result<Self, DbError> {
        let list: Vec<FigureJson> =
            serde_json::from_value(r.figures.0).map_err(|e| corrupt("figures", e))?;
        let figures = list
            .into_iter()
            .map(|f| f.into_figure().map_err(|e| corrupt("figure value", e)))
            .collect::<Result<_, DbError>>()?;
        Ok(Message {
            id: MessageId::from_uuid(r.id.0),
            conversation_id: ConversationId::from_uuid(r.conversation_id.0),
            role: MessageRole::parse(&r.role).ok_or_else(|| corrupt("role", &r.role))?,
            content: r.content,
            figures,
            mode: r
                .mode
                .map(|m| AnswerMode::parse(&m).ok_or_else(|| corrupt("mode", &m)))
                .transpose()?,
            intent: r.intent,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            flagged: r.flag_reason,
            created_at: r.created_at,
        })
    }
}

#[async_trait]
impl ConversationRepository for Db {
    async fn create(&self, c: &Conversation) -> Result<(), RepoError> {
        on_db!(&self.pool, |conn| {
            diesel::insert_into(conversations::table)
                .values((
                    conversations::tenant_id.eq(db_id(c.tenant_id)),
                    conversations::id.eq(DbId(c.id.into_uuid())),
                    conversations::created_by.eq(&c.user),
                    conversations::title.eq(&c.title),
                    conversations::summary.eq(c.summary.as_deref()),
                    conversations::summarized_through
                        .eq(c.summarized_through.map(|m| DbId(m.into_uuid()))),
                    conversations::created_at.eq(c.created_at),
                    conversations::updated_at.eq(c.updated_at),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    async fn get(
        &self,
        t: TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = conversations::table
                .filter(conversations::tenant_id.eq(db_id(t)))
                .filter(conversations::id.eq(DbId(id.into_uuid())))
                .select(conversation_columns!())
                .first::<ConversationRow>(c)
                .await
                .optional()?;
            Ok(row.map(Conversation::from))
        })
    }

    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Conversation>, RepoError> {
        let items: Vec<Conversation> = on_db!(&self.pool, |c| {
            let mut q = conversations::table
                .filter(conversations::tenant_id.eq(db_id(t)))
                .select(conversation_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(conversations::id.lt(DbId(after)));
            }
            let rows = q
                .order(conversations::id.desc())
                .limit(page.fetch_limit())
                .load::<ConversationRow>(c)
                .await?;
            Ok(rows.into_iter().map(Conversation::from).collect())
        })?;
        Ok(page.into_page(items, |c| c.id.into_uuid()))
    }

    async fn delete(&self, t: TenantId, id: ConversationId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                diesel::delete(
                    conversation_messages::table
                        .filter(conversation_messages::tenant_id.eq(db_id(t)))
                        .filter(conversation_messages::conversation_id.eq(DbId(id.into_uuid()))),
                )
                .execute(c)
                .await?;
                let n = diesel::delete(
                    conversations::table
                        .filter(conversations::tenant_id.eq(db_id(t)))
                        .filter(conversations::id.eq(DbId(id.into_uuid()))),
                )
                .execute(c)
                .await?;
                Ok::<_, DbError>(n == 1)
            })
            .await
        })
    }

    async fn append(
        &self,
        t: TenantId,
        id: ConversationId,
        messages: &[Message],
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let rows = messages
            .iter()
            .map(|m| Ok((m, figures_json(&m.figures)?)))
            .collect::<Result<Vec<_>, DbError>>()
            .map_err(RepoError::from)?;
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let n = diesel::update(
                    conversations::table
                        .filter(conversations::tenant_id.eq(db_id(t)))
                        .filter(conversations::id.eq(DbId(id.into_uuid()))),
                )
                .set(conversations::updated_at.eq(at))
                .execute(c)
                .await?;
                if n == 0 {
                    return Err(DbError::MissingParent("conversation_id"));
                }
                for (m, figures) in &rows {
                    diesel::insert_into(conversation_messages::table)
                        .values((
                            conversation_messages::tenant_id.eq(db_id(t)),
                            conversation_messages::id.eq(DbId(m.id.into_uuid())),
                            conversation_messages::conversation_id.eq(DbId(id.into_uuid())),
                            conversation_messages::role.eq(m.role.as_str()),
                            conversation_messages::content.eq(&m.content),
                            conversation_messages::figures.eq(figures),
                            conversation_messages::mode.eq(m.mode.map(AnswerMode::as_str)),
                            conversation_messages::intent.eq(m.intent.as_deref()),
                            conversation_messages::prompt_tokens.eq(m.prompt_tokens),
                            conversation_messages::completion_tokens.eq(m.completion_tokens),
                            conversation_messages::flag_reason.eq(m.flagged.as_deref()),
                            conversation_messages::created_at.eq(m.created_at),
                        ))
                        .execute(c)
                        .await?;
                    record_usage!(
                        c,
                        db_id(t),
                        DbId(m.id.into_uuid()),
                        "chat",
                        m.prompt_tokens,
                        m.completion_tokens,
                        m.created_at
                    )?;
                }
                Ok::<_, DbError>(())
            })
            .await
        })
    }

    async fn messages(
        &self,
        t: TenantId,
        id: ConversationId,
        page: PageRequest,
    ) -> Result<Page<Message>, RepoError> {
        let items: Vec<Message> = on_db!(&self.pool, |c| {
            let mut q = conversation_messages::table
                .filter(conversation_messages::tenant_id.eq(db_id(t)))
                .filter(conversation_messages::conversation_id.eq(DbId(id.into_uuid())))
                .select(message_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(conversation_messages::id.gt(DbId(after)));
            }
            let rows = q
                .order(conversation_messages::id.asc())
                .limit(page.fetch_limit())
                .load::<MessageRow>(c)
                .await?;
            rows.into_iter().map(Message::try_from).collect()
        })?;
        Ok(page.into_page(items, |m| m.id.into_uuid()))
    }

    async fn flagged(&self, t: TenantId, page: PageRequest) -> Result<Page<Message>, RepoError> {
        let items: Vec<Message> = on_db!(&self.pool, |c| {
            let mut q = conversation_messages::table
                .filter(conversation_messages::tenant_id.eq(db_id(t)))
                .filter(conversation_messages::flag_reason.is_not_null())
                .select(message_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(conversation_messages::id.lt(DbId(after)));
            }
            let rows = q
                .order(conversation_messages::id.desc())
                .limit(page.fetch_limit())
                .load::<MessageRow>(c)
                .await?;
            rows.into_iter().map(Message::try_from).collect()
        })?;
        Ok(page.into_page(items, |m| m.id.into_uuid()))
    }

    async fn messages_after(
        &self,
        t: TenantId,
        id: ConversationId,
        after: Option<MessageId>,
    ) -> Result<Vec<Message>, RepoError> {
        on_db!(&self.pool, |c| {
            let mut q = conversation_messages::table
                .filter(conversation_messages::tenant_id.eq(db_id(t)))
                .filter(conversation_messages::conversation_id.eq(DbId(id.into_uuid())))
                .select(message_columns!())
                .into_boxed();
            if let Some(after) = after {
                q = q.filter(conversation_messages::id.gt(DbId(after.into_uuid())));
            }
            let rows = q
                .order(conversation_messages::id.asc())
                .load::<MessageRow>(c)
                .await?;
            rows.into_iter().map(Message::try_from).collect()
        })
    }

    async fn update_summary(
        &self,
        t: TenantId,
        id: ConversationId,
        summary: &str,
        through: MessageId,
        usage: TokenUsage,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let updated = diesel::update(
                    conversations::table
                        .filter(conversations::tenant_id.eq(db_id(t)))
                        .filter(conversations::id.eq(DbId(id.into_uuid()))),
                )
                .set((
                    conversations::summary.eq(Some(summary)),
                    conversations::summarized_through.eq(Some(DbId(through.into_uuid()))),
                ))
                .execute(c)
                .await?;
                if updated == 1 {
                    record_usage!(
                        c,
                        db_id(t),
                        DbId(uuid::Uuid::now_v7()),
                        "chat",
                        i64::from(usage.prompt_tokens),
                        i64::from(usage.completion_tokens),
                        at
                    )?;
                }
                Ok::<_, DbError>(())
            })
            .await
        })
    }

    async fn flag(
        &self,
        t: TenantId,
        id: ConversationId,
        message: MessageId,
        reason: &str,
    ) -> Result<Option<Message>, RepoError> {
        let now = OffsetDateTime::now_utc();
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let target = conversation_messages::table
                    .filter(conversation_messages::tenant_id.eq(db_id(t)))
                    .filter(conversation_messages::conversation_id.eq(DbId(id.into_uuid())))
                    .filter(conversation_messages::id.eq(DbId(message.into_uuid())))
                    .filter(conversation_messages::role.eq(MessageRole::Assistant.as_str()));
                let n = diesel::update(target)
                    .set((
                        conversation_messages::flag_reason.eq(Some(reason)),
                        conversation_messages::flagged_at.eq(Some(now)),
                    ))
                    .execute(c)
                    .await?;
                if n == 0 {
                    return Ok::<_, DbError>(None);
                }
                let row = target
                    .select(message_columns!())
                    .first::<MessageRow>(c)
                    .await?;
                Message::try_from(row).map(Some)
            })
            .await
        })
    }
}
