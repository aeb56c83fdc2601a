//! Every deployment or service as one stream, fetched page by page with
//! `limit`/`offset` only as the consumer reads on.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::Error;
use crate::types::{Deployment, Service};
use crate::Client;

pub use crate::facts::MAX_PAGE_SIZE;

/// A stream over every item of a paginated list; see
/// [`Client::deployments_stream`]. Each page is fetched once, when the items
/// before it have been read; a page's error is yielded as an item and ends
/// the stream.
pub struct Pages<T> {
    items: Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>,
}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl<T> Stream for Pages<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.items.as_mut().poll_next(cx)
    }
}

struct Cursor<T, F> {
    fetch: F,
    page_size: u32,
    offset: i64,
    buffered: VecDeque<T>,
    exhausted: bool,
}

impl<T, F, Fut> Cursor<T, F>
where
    F: FnMut(i64, i64) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<i64>), Error>>,
{
    async fn next_item(&mut self) -> Option<Result<T, Error>> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Some(Ok(item));
            }
            if self.exhausted {
                return None;
            }
            let limit = i64::from(self.page_size);
            match (self.fetch)(self.offset, limit).await {
                Err(e) => {
                    self.exhausted = true;
                    return Some(Err(e));
                }
                Ok((items, total)) => {
                    let fetched = items.len() as i64;
                    self.offset += fetched;
                    // A short page is the last one, whatever `total` says; an
                    // empty page too, so a wrong `total` cannot loop forever.
                    self.exhausted = fetched < limit || total.is_some_and(|t| self.offset >= t);
                    self.buffered.extend(items);
                }
            }
        }
    }
}

pub(crate) fn paginate<T, F, Fut>(page_size: u32, fetch: F) -> Pages<T>
where
    T: Send + 'static,
    F: FnMut(i64, i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(Vec<T>, Option<i64>), Error>> + Send + 'static,
{
    let cursor = Cursor {
        fetch,
        page_size: page_size.clamp(1, MAX_PAGE_SIZE),
        offset: 0,
        buffered: VecDeque::new(),
        exhausted: false,
    };
    let items = futures_util::stream::unfold(cursor, |mut cursor| async move {
        let item = cursor.next_item().await?;
        Some((item, cursor))
    });
    Pages {
        items: Box::pin(items),
    }
}

impl Client {
    /// Every deployment, fetched `page_size` (1 to 100) at a time.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// use futures::TryStreamExt;
    /// let all: Vec<dployr::types::Deployment> = client.deployments_stream(100).try_collect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn deployments_stream(&self, page_size: u32) -> Pages<Deployment> {
        let client = self.clone();
        paginate(page_size, move |offset, limit| {
            let client = client.clone();
            async move {
                let page = client
                    .list_deployments()
                    .limit(limit)
                    .offset(offset)
                    .send()
                    .await?
                    .into_inner();
                Ok((page.deployments, Some(page.total)))
            }
        })
    }

    /// Every service, fetched `page_size` (1 to 100) at a time.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// use futures::StreamExt;
    /// let mut services = client.services_stream(50);
    /// while let Some(service) = services.next().await {
    ///     println!("{}", service?.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn services_stream(&self, page_size: u32) -> Pages<Service> {
        let client = self.clone();
        paginate(page_size, move |offset, limit| {
            let client = client.clone();
            async move {
                let page = client
                    .list_services()
                    .limit(limit)
                    .offset(offset)
                    .send()
                    .await?
                    .into_inner();
                Ok((page.services, Some(page.total)))
            }
        })
    }
}
