//! Typed ids. Every entity id is a newtype over a UUID v7 (time-ordered, so
//! "newest first" is "id descending"), so a `CampaignId` can never be passed
//! where a `TenantId` is expected.

use std::fmt;
use std::str::FromStr;

/// Declares a UUID v7 newtype id.
#[macro_export]
macro_rules! id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// A new time-ordered id.
            #[must_use]
            pub fn generate() -> Self {
                Self(::uuid::Uuid::now_v7())
            }
            #[must_use]
            pub const fn from_uuid(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
            #[must_use]
            pub const fn as_uuid(&self) -> &::uuid::Uuid {
                &self.0
            }
            #[must_use]
            pub const fn into_uuid(self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ids::InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self).map_err(|_| $crate::ids::InvalidId)
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
        }
    };
}

/// A string that is not a UUID was given as an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

id!(
    /// An organization: the tenant that owns every tenant-scoped row.
    TenantId
);
id!(UserId);
id!(ApiKeyId);
id!(RefreshTokenId);
id!(
    /// Groups a chain of rotated refresh tokens; reuse of a spent one revokes the family.
    TokenFamilyId
);
id!(AdAccountId);
id!(CampaignId);
id!(AdSetId);
id!(AdId);
id!(AuditEntryId);
id!(
    /// One sync of an ad account (API fetch or file import).
    SyncRunId
);
id!(
    /// An automation rule; its id stays the same across versions.
    RuleId
);
id!(
    /// One suggestion a rule made for one entity and window.
    SuggestionId
);
id!(
    /// One requested report (its job and, once rendered, its file).
    ReportId
);
id!(
    /// A tenant's standing order for a report (daily, weekly, monthly).
    ReportScheduleId
);
id!(
    /// One generated weekly insight of an ad account.
    InsightId
);
id!(
    /// One requested generation of insights (queued, then run by a worker).
    InsightJobId
);

/// An id on the ad platform (Meta ids are numeric strings such as `"120210000000000001"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// # Errors
    /// Empty or longer than 64 characters.
    pub fn parse(s: &str) -> Result<Self, crate::error::ValidationError> {
        let s = s.trim();
        if s.is_empty() || s.len() > 64 {
            return Err(crate::error::ValidationError::new(
                "external_id",
                "must be 1 to 64 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ExternalId {
    type Err = crate::error::ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_sort_by_creation_time() {
        let a = CampaignId::generate();
        let b = CampaignId::generate();
        assert!(a < b);
        assert!(
            a.to_string() < b.to_string(),
            "text order must match uuid order"
        );
    }

    #[test]
    fn parses_its_own_display() {
        let a = TenantId::generate();
        assert_eq!(a.to_string().parse::<TenantId>(), Ok(a));
        assert_eq!("nope".parse::<TenantId>(), Err(InvalidId));
    }

    #[test]
    fn rejects_empty_external_id() {
        assert!(ExternalId::parse("  ").is_err());
        assert_eq!(
            ExternalId::parse(" 123 ").map(|e| e.to_string()),
            Ok("123".into())
        );
    }
}
