//! Walking every page of a paged repository listing.

use std::future::Future;

use domain::RepoError;
use domain::page::{Page, PageRequest};

use crate::AppError;

/// Every item `fetch` lists, `size` per page, following each page's cursor
/// to the end.
///
/// # Errors
/// The first storage failure.
pub(crate) async fn every_page<T, F, Fut>(size: u16, mut fetch: F) -> Result<Vec<T>, AppError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, RepoError>>,
{
    let mut out = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = fetch(page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(cursor) => page = PageRequest::new(Some(u32::from(size)), Some(&cursor))?,
            None => return Ok(out),
        }
    }
}
