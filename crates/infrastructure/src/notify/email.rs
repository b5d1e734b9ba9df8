//! E-mail over SMTP: [`EmailNotifier`] sends one plain-text message per
//! alert with `lettre` (tokio, rustls).
//!
//! Subject `[AdScale] <title>`; body = the alert body and a footer with
//! kind, severity and alert id; `Message-ID: <alert.<id>@<sender domain>>`,
//! the same on every retry, so a repeated mail is recognisably the same
//! message. SMTP 4xx replies, timeouts and connection failures are
//! retryable; 5xx replies (an unknown mailbox refused at `RCPT`) and
//! recipients that are not addresses are permanent. The SMTP URL may hold
//! credentials: it never reaches an error or a log line.

use std::fmt;
use std::time::Duration;

use domain::notify::{Alert, Attachment, DeliveryError};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The SMTP settings cannot make a transport. Never shows the URL (it may
/// carry a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailConfigError {
    #[error(
        "the SMTP URL is not valid: expected smtp://host:port, smtp://host:587?tls=required or smtps://user:password@host"
    )]
    SmtpUrl,
    #[error("TLS for the SMTP server cannot be set up")]
    Tls,
    #[error("the sender is not a valid e-mail address")]
    From,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a local relay, tests).
    None,
    /// STARTTLS, required (port 587).
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
}

impl SmtpTls {
    /// The usual port: 25, 587 or 465.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// The SMTP server e-mail alerts go through. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender: `alerts@example.com` or `AdScale <alerts@example.com>`.
    pub from: String,
    pub tls: SmtpTls,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Sends alerts by e-mail through one SMTP server.
#[derive(Clone)]
pub struct EmailNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The right-hand side of `Message-ID`s: the sender's domain.
    id_domain: String,
}

impl fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailNotifier")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailNotifier {
    /// From an SMTP URL as `lettre` reads it — `smtp://host:25` (plain),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://user:pass@host`
    /// (implicit TLS, port 465) — and a sender (`alerts@example.com` or
    /// `AdScale <alerts@example.com>`). `timeout` bounds each SMTP command.
    ///
    /// # Errors
    /// The URL or the sender cannot be used.
    pub fn new(smtp_url: &str, from: &str, timeout: Duration) -> Result<Self, EmailConfigError> {
        let from: Mailbox = from.trim().parse().map_err(|_| EmailConfigError::From)?;
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url.trim()).map_err(|e| {
                if e.is_tls() {
                    EmailConfigError::Tls
                } else {
                    EmailConfigError::SmtpUrl
                }
            })?;
        Ok(Self {
            transport: builder.timeout(Some(timeout)).build(),
            id_domain: from.email.domain().to_owned(),
            from,
        })
    }

    /// From separate SMTP settings (the `SMTP_*` variables). Credentials are
    /// used only when both a username and a password are given.
    ///
    /// # Errors
    /// TLS cannot be set up for the host, or the sender is invalid.
    pub fn from_settings(s: &SmtpSettings, timeout: Duration) -> Result<Self, EmailConfigError> {
        let from: Mailbox = s.from.trim().parse().map_err(|_| EmailConfigError::From)?;
        let host = s.host.trim();
        let mut builder = match s.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|_| EmailConfigError::Tls)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|_| EmailConfigError::Tls)?,
        }
        .port(s.port)
        .timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            id_domain: from.email.domain().to_owned(),
            from,
        })
    }

    /// Mails `alert` to every address in `to` (one message, all recipients).
    ///
    /// # Errors
    /// Permanent for no or invalid recipients and SMTP 5xx replies;
    /// retryable for SMTP 4xx replies, timeouts and connection failures.
    pub async fn send(&self, to: &[String], alert: &Alert) -> Result<(), DeliveryError> {
        self.send_with(to, alert, &[]).await
    }

    /// As [`Self::send`], with `attachments` as MIME attachments.
    ///
    /// # Errors
    /// As [`Self::send`]; permanent for an attachment whose media type is
    /// not one.
    pub async fn send_with(
        &self,
        to: &[String],
        alert: &Alert,
        attachments: &[Attachment],
    ) -> Result<(), DeliveryError> {
        let message = self.message_with(to, alert, attachments)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| smtp_error(&e))
    }

    /// The message for `alert`, addressed to `to`.
    ///
    /// # Errors
    /// Permanent for no or invalid recipients.
    pub fn message(&self, to: &[String], alert: &Alert) -> Result<Message, DeliveryError> {
        self.message_with(to, alert, &[])
    }

    /// The message for `alert` with `attachments` (plain text alone when
    /// there are none; `multipart/mixed` otherwise).
    ///
    /// # Errors
    /// Permanent for no or invalid recipients, or a bad media type.
    pub fn message_with(
        &self,
        to: &[String],
        alert: &Alert,
        attachments: &[Attachment],
    ) -> Result<Message, DeliveryError> {
        if to.is_empty() {
            return Err(DeliveryError::Permanent(
                "the e-mail channel has no recipients".to_owned(),
            ));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(format!("[AdScale] {}", alert.title.trim()))
            .message_id(Some(format!("<alert.{}@{}>", alert.id, self.id_domain)));
        for (i, address) in to.iter().enumerate() {
            let mailbox: Mailbox = address.trim().parse().map_err(|_| {
                DeliveryError::Permanent(format!(
                    "recipient {} of {} is not a valid e-mail address",
                    i + 1,
                    to.len()
                ))
            })?;
            builder = builder.to(mailbox);
        }
        let built = if attachments.is_empty() {
            builder.header(ContentType::TEXT_PLAIN).body(text(alert))
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(text(alert)));
            for a in attachments {
                let kind = ContentType::parse(&a.content_type).map_err(|_| {
                    DeliveryError::Permanent(format!(
                        "attachment {} has no valid media type",
                        a.file_name
                    ))
                })?;
                parts = parts.singlepart(
                    lettre::message::Attachment::new(a.file_name.clone())
                        .body(a.content.clone(), kind),
                );
            }
            builder.multipart(parts)
        };
        built.map_err(|_| DeliveryError::Permanent("the e-mail could not be built".to_owned()))
    }
}

/// The plain-text body: the alert body, then a signature-style footer.
#[must_use]
pub fn text(alert: &Alert) -> String {
    format!(
        "{}\n\n-- \nAdScale alert\nKind: {}\nSeverity: {}\nAlert ID: {}\n",
        alert.body.trim_end(),
        alert.kind.as_str(),
        alert.severity.as_str(),
        alert.id
    )
}

/// Classifies an SMTP failure. Server replies are quoted (they name the
/// refused mailbox, never our credentials); other errors are summarised.
fn smtp_error(e: &SmtpError) -> DeliveryError {
    if e.is_permanent() {
        DeliveryError::Permanent(format!("the mail server refused the message: {e}"))
    } else if e.is_transient() {
        DeliveryError::Retryable(format!("the mail server deferred the message: {e}"))
    } else if e.is_timeout() {
        DeliveryError::Retryable("the mail server did not answer in time".to_owned())
    } else if e.is_tls() {
        DeliveryError::Retryable("TLS with the mail server failed".to_owned())
    } else if e.is_client() {
        DeliveryError::Permanent("the mail server and AdScale do not agree on SMTP".to_owned())
    } else {
        DeliveryError::Retryable("could not talk to the mail server".to_owned())
    }
}
