//! Notify: managing a tenant's notification channels, reading its alerts
//! with their delivery state, and delivering the outbox.
//!
//! Alerts are never sent from a request: the event's own transaction writes
//! them into the outbox ([`domain::notify::AlertOutbox`]) and
//! [`DeliverAlerts`], driven by a worker loop, sends each to each channel
//! once, retrying with backoff. Channel targets (webhook URLs, secrets,
//! recipients) are sealed with the [`domain::ingestion::SecretBox`] before
//! they are stored and never leave this module in clear except towards the
//! [`domain::notify::Notifier`].

mod alerts;
mod channels;
mod deliver;

pub use alerts::{GetAlert, ListAlerts};
pub use channels::{
    ChannelInput, ChannelPatchInput, CreateChannel, DeleteChannel, GetChannel, ListChannels,
    TestChannel, UpdateChannel,
};
pub use deliver::{DeliverAlerts, DeliveryRound};
