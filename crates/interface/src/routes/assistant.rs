//! Assistant routes: `POST /chat` (a question, answered from the tenant's
//! data with verified figures), the organization's conversations, their
//! messages (with figures, mode and tokens), deleting one and flagging an
//! answer as wrong, and the organization's model token usage. Any member
//! may chat and read the usage; conversations are the organization's
//! (every member sees them).

use actix_web::web;
use domain::assistant::chat::{ConversationId, MessageId};

use super::page_request;
use crate::auth::Auth;
use crate::dto::assistant::{
    ChatReplyDto, ChatRequest, ConversationDto, ConversationListQuery, FlagRequest, MessageDto,
    UsageDto, UsageQuery,
};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    ChatReplyEnvelope, ConversationListEnvelope, E400, E401, E403, E404, E413, E422, E429, E500,
    E503, MessageEnvelope, MessageListEnvelope, UsageEnvelope,
};
use crate::state::AppState;

type Reply = Result<actix_web::HttpResponse, ApiError>;

/// Ask the assistant about an ad account (the organization's first when
/// `ad_account_id` is absent). The question is read as one of: KPIs of a
/// period, a comparison with the period before, top/worst campaigns, why a
/// metric changed, pending suggestions, anomalies; exactly that data is
/// read and answered. `mode` says who answered: `llm` (the model; with
/// `verified: false` when its figures did not check out twice and the raw
/// figures stand instead) or `builtin` (no model configured, or it was
/// unavailable). `422 NO_AD_ACCOUNT` without accounts.
#[utoipa::path(
    post, path = "/api/v1/chat", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The answer", body = ChatReplyEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn chat(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<ChatRequest>,
) -> Reply {
    let reply = state
        .assistant
        .chat
        .execute(&actor, body.into_inner().into())
        .await?;
    env::ok(state.version, ChatReplyDto::from(reply))
}

/// The organization's conversations, newest first.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(ConversationListQuery),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_conversations(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<ConversationListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state
        .assistant
        .list_conversations
        .execute(&actor, page)
        .await?;
    env::page(state.version, items, ConversationDto::from)
}

/// Delete a conversation with its messages (whoever started it, or an admin).
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_conversation(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = ConversationId::from_uuid(parse_uuid("id", &path)?);
    state
        .assistant
        .delete_conversation
        .execute(&actor, id)
        .await?;
    Ok(env::no_content())
}

/// A conversation's messages, oldest first: questions, and answers with
/// their figures, mode, intent, tokens and flag.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/messages", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Conversation id"), ConversationListQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessageListEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn list_messages(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ConversationListQuery>,
) -> Reply {
    let id = ConversationId::from_uuid(parse_uuid("id", &path)?);
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let (_, items) = state
        .assistant
        .list_messages
        .execute(&actor, id, page)
        .await?;
    env::page(state.version, items, MessageDto::from)
}

/// The organization's flagged answers across its conversations, newest
/// first, for review: each with its `conversation_id` (its question is the
/// message before it in `GET /conversations/{id}/messages`), figures, mode
/// and `flag_reason`.
#[utoipa::path(
    get, path = "/api/v1/assistant/flagged-answers", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(ConversationListQuery),
    responses(
        (status = 200, description = "A page of flagged answers", body = MessageListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn flagged_answers(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<ConversationListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state.assistant.list_messages.flagged(&actor, page).await?;
    env::page(state.version, items, MessageDto::from)
}

/// Flag an answer as wrong, with a reason; kept with the conversation for
/// review (a new flag replaces the reason). Questions cannot be flagged
/// (`404 MESSAGE_NOT_FOUND`).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/messages/{message_id}/flag", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(
        ("id" = Uuid, Path, description = "Conversation id"),
        ("message_id" = Uuid, Path, description = "The answer's id"),
    ),
    request_body = FlagRequest,
    responses(
        (status = 200, description = "The flagged answer", body = MessageEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn flag_message(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<FlagRequest>,
) -> Reply {
    let (id, message_id) = path.into_inner();
    let id = ConversationId::from_uuid(parse_uuid("id", &id)?);
    let message_id = MessageId::from_uuid(parse_uuid("message_id", &message_id)?);
    let reason = body.into_inner().reason.unwrap_or_default();
    let m = state
        .assistant
        .flag_message
        .execute(&actor, id, message_id, &reason)
        .await?;
    env::ok(state.version, MessageDto::from(m))
}

/// The organization's language-model tokens per UTC day in `from..=to`
/// (default: the last 30 days, today included): the total, per source
/// (`chat`: answers and conversation summaries; `insights`: generated
/// documents) with the model calls, and every day of the range. Built-in
/// answers and documents spend no tokens. Tokens spent stay counted (a
/// deleted conversation's, a replaced document's). `422` for a malformed,
/// reversed or longer than 366-day range.
#[utoipa::path(
    get, path = "/api/v1/assistant/usage", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "The token usage", body = UsageEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn usage(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<UsageQuery>,
) -> Reply {
    let q = q.into_inner();
    let report = state
        .assistant
        .usage
        .execute(&actor, q.from.as_deref(), q.to.as_deref())
        .await?;
    env::ok(state.version, UsageDto::from(report))
}
