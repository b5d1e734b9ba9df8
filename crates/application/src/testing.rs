//! Helpers shared by the use cases' unit tests.

use std::sync::Arc;

use domain::audit::MockAuditLogRepository;
use domain::identity::{Actor, Principal, Role};
use domain::platform::MockClock;
use domain::{TenantId, UserId};
use time::macros::datetime;

use crate::audit::Auditor;

/// A user of a new tenant, with `role`.
pub fn actor(role: Role) -> Actor {
    Actor {
        tenant_id: TenantId::generate(),
        principal: Principal::User(UserId::generate()),
        role,
    }
}

/// A clock stopped at 2026-01-01 00:00 UTC.
pub fn new_year_clock() -> Arc<MockClock> {
    let mut c = MockClock::new();
    c.expect_now().returning(|| datetime!(2026-01-01 0:00 UTC));
    Arc::new(c)
}

/// An auditor that takes `appends` entries (any number when `None`), on
/// [`new_year_clock`].
pub fn auditor(appends: Option<usize>) -> Auditor {
    let mut repo = MockAuditLogRepository::new();
    let append = repo.expect_append();
    if let Some(n) = appends {
        append.times(n);
    }
    append.returning(|_| Ok(()));
    Auditor::new(Arc::new(repo), new_year_clock())
}
