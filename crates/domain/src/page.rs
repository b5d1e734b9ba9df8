//! Keyset pagination: stable, newest first (ids are UUID v7), no OFFSET scans.

use uuid::Uuid;

use crate::error::ValidationError;

pub const DEFAULT_LIMIT: u16 = 50;
pub const MAX_LIMIT: u16 = 200;

/// A validated page request: `limit` in 1..=200, and an optional cursor (the
/// last id of the previous page; rows strictly older than it come next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    limit: u16,
    after: Option<Uuid>,
}

impl PageRequest {
    /// # Errors
    /// `limit` outside 1..=200 or a cursor that is not one we issued.
    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) if (1..=u32::from(MAX_LIMIT)).contains(&l) => {
                u16::try_from(l).unwrap_or(DEFAULT_LIMIT)
            }
            Some(_) => {
                errors.add("limit", "must be between 1 and 200");
                DEFAULT_LIMIT
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match Uuid::parse_str(c) {
                Ok(u) => Some(u),
                Err(_) => {
                    errors.add("cursor", "is not a valid cursor");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(Self { limit, after })
    }

    #[must_use]
    pub fn first(limit: u16) -> Self {
        Self {
            limit: limit.clamp(1, MAX_LIMIT),
            after: None,
        }
    }

    #[must_use]
    pub const fn limit(&self) -> u16 {
        self.limit
    }

    /// Rows to fetch: one more than the limit tells whether a next page exists.
    #[must_use]
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    #[must_use]
    pub const fn after(&self) -> Option<Uuid> {
        self.after
    }

    /// Cuts a fetched list (of at most `fetch_limit` rows, newest first) into a page.
    #[must_use]
    pub fn into_page<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> Uuid) -> Page<T> {
        let more = rows.len() > usize::from(self.limit);
        rows.truncate(usize::from(self.limit));
        let next_cursor = if more {
            rows.last().map(|r| id_of(r).to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
            limit: self.limit,
        }
    }
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub limit: u16,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            limit: self.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_limit_above_200_and_zero() {
        assert!(PageRequest::new(Some(201), None).is_err());
        assert!(PageRequest::new(Some(0), None).is_err());
        assert_eq!(
            PageRequest::new(Some(200), None).map(|p| p.limit()),
            Ok(200)
        );
        assert_eq!(
            PageRequest::new(None, None).map(|p| p.limit()),
            Ok(DEFAULT_LIMIT)
        );
    }

    #[test]
    fn rejects_garbage_cursor() {
        let e = PageRequest::new(None, Some("xyz")).unwrap_err();
        assert!(e.fields.contains_key("cursor"));
    }

    #[test]
    fn next_cursor_only_when_more_rows_exist() {
        let p = PageRequest::new(Some(2), None).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = p.into_page(ids.clone(), |u| *u);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(ids[1].to_string()));
        let page = p.into_page(ids[..2].to_vec(), |u| *u);
        assert_eq!(page.next_cursor, None);
    }
}
