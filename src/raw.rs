//! The escape hatch: any method and path, for endpoints newer than this
//! crate's spec, with the same auth, retries, timeouts and errors as the
//! generated operations.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;
use crate::operations::RAW;
use crate::{call, send, Client};

impl Client {
    /// A request to `path` (relative to the base URL) that the spec does not
    /// describe.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// let answer = client
    ///     .raw(dployr::Method::GET, "/system/metrics")
    ///     .query("window", "5m")
    ///     .send()
    ///     .await?;
    /// let metrics: serde_json::Value = answer.json()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn raw(&self, method: Method, path: &str) -> RawRequest {
        RawRequest {
            client: self.clone(),
            method,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
        }
    }
}

/// A request built by [`Client::raw`].
#[derive(Debug)]
#[must_use = "nothing is sent until `send` is awaited"]
pub struct RawRequest {
    client: Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Result<Vec<u8>, String>>,
}

impl RawRequest {
    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Sends `body` as JSON.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = Some(serde_json::to_vec(body).map_err(|e| e.to_string()));
        self
    }

    /// Sends the request. A non-2xx answer is an [`Error`] as for any call.
    pub async fn send(self) -> Result<RawResponse, Error> {
        call::run(&RAW, self.send_in_call()).await
    }

    async fn send_in_call(self) -> Result<RawResponse, Error> {
        let ctx = &self.client.inner;
        let base = format!(
            "{}/{}",
            self.client.baseurl,
            self.path.trim_start_matches('/')
        );
        let mut url = reqwest::Url::parse(&base)
            .map_err(|e| Error::invalid_input("path", format!("does not form a URL ({e})")))?;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let mut request = reqwest::Request::new(self.method, url);
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = self.body {
            let body =
                body.map_err(|e| Error::invalid_input("body", format!("is not JSON ({e})")))?;
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            *request.body_mut() = Some(body.into());
        }
        send::prepare(ctx, &RAW, &mut request).await?;
        let response = send::execute(&self.client.client, ctx, &RAW, request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = send::read_bounded(response, ctx.settings.max_response_bytes).await?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// The answer to a [`RawRequest`].
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status (always a success; failures are errors).
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The body, as sent.
    pub body: Bytes,
}

impl RawResponse {
    /// Decodes the body as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::decode(Some(self.status), &self.body, e))
    }
}
