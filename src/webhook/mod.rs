//! Webhooks for partner portals: events about the members linked to a portal, written into an outbox in the
//! transaction of the change they tell of (`events`), signed as Standard Webhooks sign them (`sign`), and posted to
//! the portal's endpoints by a sender that leases each delivery, retries with a doubling back-off under the same id,
//! and disables an endpoint that keeps failing (`send`). Targets are checked when the connection is made (see
//! `outbound::TargetRule`).

pub mod events;
pub mod send;
pub mod sign;

pub use events::{member_updated, suggestion_event};
pub use send::{Sender, check_target};
