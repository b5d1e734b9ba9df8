//! The cache entry format for rendered lists: the rendered JSON array of
//! items plus the next cursor, so a hit is served without re-serialising.

use bytes::{BufMut, Bytes, BytesMut};

/// Renders a list of items as a JSON array (the interface layer owns the format).
pub type Renderer<'a, T> = &'a (dyn Fn(&[T]) -> Result<Bytes, String> + Send + Sync);

/// A rendered page, from the cache or freshly built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedList {
    /// The JSON array of items, exactly as stored.
    pub data: Bytes,
    pub next_cursor: Option<String>,
    pub limit: u16,
    pub hit: bool,
}

impl CachedList {
    /// `<cursor>\n<json array>`: cursors never contain a newline.
    pub(crate) fn encode(&self) -> Bytes {
        let cursor = self.next_cursor.as_deref().unwrap_or("");
        let mut b = BytesMut::with_capacity(cursor.len() + 1 + self.data.len());
        b.put_slice(cursor.as_bytes());
        b.put_u8(b'\n');
        b.put_slice(&self.data);
        b.freeze()
    }

    pub(crate) fn decode(mut raw: Bytes, limit: u16) -> Option<Self> {
        let nl = raw.iter().position(|&c| c == b'\n')?;
        let cursor = raw.split_to(nl);
        let data = raw.split_off(1);
        let next_cursor = if cursor.is_empty() {
            None
        } else {
            Some(String::from_utf8(cursor.to_vec()).ok()?)
        };
        Some(Self {
            data,
            next_cursor,
            limit,
            hit: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_and_without_cursor() {
        for cursor in [None, Some("0190-abc".to_owned())] {
            let l = CachedList {
                data: Bytes::from_static(b"[{\"a\":1}]"),
                next_cursor: cursor.clone(),
                limit: 50,
                hit: false,
            };
            let back = CachedList::decode(l.encode(), 50).unwrap();
            assert_eq!(back.data, l.data);
            assert_eq!(back.next_cursor, cursor);
            assert!(back.hit);
        }
    }
}
