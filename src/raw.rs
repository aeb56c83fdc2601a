//! The escape hatch: any method and path, for endpoints newer than this
//! crate's spec, with the same auth, retries, timeouts and errors as the
//! generated operations.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;
use crate::facts::{Operation, ParameterLocation, RAW};
use crate::pipeline::{self, check, decode};
use crate::Client;

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
            operation: &RAW,
            method,
            path: path.to_string(),
            path_params: Vec::new(),
            query: Vec::new(),
            body: None,
        }
    }

    /// A call of `operation`, found by its facts (see [`operations`](crate::operations))
    /// rather than through its typed builder: for programs that work from
    /// the spec, such as a command line. Parameters are set by their names in
    /// the spec, the body as JSON; the request is checked as the typed
    /// builder's would be (required parameters, bounds, the body's type),
    /// sent with the operation's auth, timeout and retries, and answered raw.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// let get = dployr::Operation::find("getService").unwrap();
    /// let answer = client.call(get).path_param("serviceId", "svc-1").send().await?;
    /// let service: dployr::types::Service = answer.json()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn call(&self, operation: &'static Operation) -> RawRequest {
        RawRequest {
            client: self.clone(),
            operation,
            method: Method::from_bytes(operation.method.as_bytes()).unwrap_or(Method::GET),
            path: operation.path.to_string(),
            path_params: Vec::new(),
            query: Vec::new(),
            body: None,
        }
    }
}

/// A request built by [`Client::raw`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `send` is awaited"]
pub struct RawRequest {
    client: Client,
    operation: &'static Operation,
    method: Method,
    path: String,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Result<Vec<u8>, String>>,
}

impl RawRequest {
    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Fills the path parameter `name` (`{name}` in the operation's path
    /// template) with `value`, percent-encoded. Only for [`Client::call`].
    pub fn path_param(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.path_params.push((name.into(), value.to_string()));
        self
    }

    /// Sends `body` as JSON.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = Some(serde_json::to_vec(body).map_err(|e| e.to_string()));
        self
    }

    /// Sends the request. A non-2xx answer is an [`Error`] as for any call.
    pub async fn send(self) -> Result<RawResponse, Error> {
        let operation = self.operation;
        let (client, request) = match self.into_request() {
            Ok(built) => built,
            Err((error, method, path)) => {
                return Err(error.in_call(operation.id, method.as_str(), &path))
            }
        };
        let (plan, span, request) = pipeline::planned(&client, operation, request);
        let max = plan.settings.max_response_bytes;
        let call = pipeline::exchange(&plan, request, pipeline::Resend::Copy, move |answer| {
            decode::bytes(answer, max)
        });
        let (status, headers, body) = pipeline::traced(&plan, span, call).await?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// The URL: the base URL and the path, its template filled for a call.
    fn url(&self) -> Result<reqwest::Url, Error> {
        if std::ptr::eq(self.operation, &RAW) {
            let base = format!(
                "{}/{}",
                self.client.baseurl,
                self.path.trim_start_matches('/')
            );
            return reqwest::Url::parse(&base)
                .map_err(|e| Error::invalid_input("path", format!("does not form a URL ({e})")));
        }
        let op = self.operation;
        check::check_given(op, |parameter| {
            let given = match parameter.location {
                ParameterLocation::Path => &self.path_params,
                ParameterLocation::Query => &self.query,
            };
            given.iter().any(|(n, _)| n == parameter.name)
        })?;
        let mut url = reqwest::Url::parse(&self.client.baseurl)
            .map_err(|e| Error::invalid_input("path", format!("does not form a URL ({e})")))?;
        let mut segments = Vec::new();
        for segment in op.path.split('/').filter(|s| !s.is_empty()) {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    let value = self
                        .path_params
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.as_str())
                        .ok_or_else(|| Error::invalid_input(name, "is required"))?;
                    segments.push(value);
                }
                None => segments.push(segment),
            }
        }
        url.path_segments_mut()
            .map_err(|()| Error::invalid_input("path", "the base URL cannot take a path"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// The request, not sent; or why it cannot be made, with the method and
    /// path it was meant for.
    fn into_request(self) -> Result<(Client, reqwest::Request), (Error, Method, String)> {
        let url = match self.url() {
            Ok(url) => url,
            Err(e) => return Err((e, self.method, self.path)),
        };
        let fail = |e: Error, url: &reqwest::Url| (e, self.method.clone(), url.path().to_string());
        let mut url = url;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let mut request = reqwest::Request::new(self.method.clone(), url);
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = self.body {
            let body = body
                .map_err(|e| Error::invalid_input("body", format!("is not JSON ({e})")))
                .and_then(|body| self.operation.check_body(&body).map(|()| body))
                .map_err(|e| fail(e, request.url()))?;
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            *request.body_mut() = Some(body.into());
        }
        Ok((self.client, request))
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
            .map_err(|_| decode::mismatch::<T>(self.status, &self.body))
    }
}
